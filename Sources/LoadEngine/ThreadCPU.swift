#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the calling thread (an event loop reads its own, to know how busy it was).
enum ThreadCPU {
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
