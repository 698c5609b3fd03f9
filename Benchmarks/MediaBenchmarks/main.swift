import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WasimCerts
import WasimMedia

// media-bench: what media costs on this machine.
//   1. SRTP through libsrtp2: µs per protect + unprotect of a 20 ms Opus-sized packet, and the share of
//      one core that 1,000 packets/s take.
//   2. Concurrent full-media calls: N calls on loopback (Meta's leg and the business's leg in this one
//      process, SDES-SRTP, 50 packets/s each way), run for a few seconds per level; reports CPU, packets
//      delivered, and the highest level that keeps every leg fed (>= 99 % of the expected packets) below
//      90 % of the machine's CPU.
// Usage: swift run -c release media-bench [seconds-per-level] [max-calls]

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

let arguments = CommandLine.arguments
let secondsPerLevel = arguments.count > 1 ? Double(arguments[1]) ?? 4 : 4
let maxCalls = arguments.count > 2 ? Int(arguments[2]) ?? 1600 : 1600

// 1. SRTP.
let key = (0..<30).map { UInt8($0) }
let sender = try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: key, direction: .outbound)
let receiver = try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: key, direction: .inbound, replayWindow: 1024)
let packets = 200_000
var header: [UInt8] = [0x80, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42]
let payload = [UInt8](repeating: 0xD5, count: 80)
let start = cpuSeconds()
for i in 0..<packets {
    header[2] = UInt8((i >> 8) & 0xFF)
    header[3] = UInt8(i & 0xFF)
    header[4] = UInt8((i >> 16) & 0xFF)
    var p = header + payload
    try sender.protect(&p)
    try receiver.unprotect(&p)
}
let srtpSeconds = cpuSeconds() - start
let perPacketMicros = srtpSeconds / Double(packets) * 1e6
print("SRTP (libsrtp2, AES_CM_128_HMAC_SHA1_80, 92-byte RTP packets)")
print(String(format: "| packets | CPU s | µs per protect+unprotect | CPU per 1,000 packets/s (each way) |"))
print("|---|---|---|---|")
print(String(format: "| %d | %.3f | %.2f | %.2f %% of a core |", packets, srtpSeconds, perPacketMicros, perPacketMicros * 1000 / 1e6 * 100))
// Session setup (srtp_create): paid four times per call (each leg's inbound and outbound).
let setups = 2000
let setupStart = cpuSeconds()
for i in 0..<setups {
    let k = (0..<30).map { UInt8(truncatingIfNeeded: $0 &+ i) }
    _ = try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: k, direction: i % 2 == 0 ? .outbound : .inbound)
}
let setupMicros = (cpuSeconds() - setupStart) / Double(setups) * 1e6
print(String(format: "| session setup (srtp_create + dealloc) | %.1f µs |", setupMicros))
print("")

// 2. Concurrent calls.
let cores = System.coreCount
let group = MultiThreadedEventLoopGroup(numberOfThreads: cores)
// One media scheduler per loop, as the shards and the mock's cores keep one.
var schedulers: [ObjectIdentifier: NIOLoopBound<MediaScheduler>] = [:]
for loop in group.makeIterator() {
    schedulers[ObjectIdentifier(loop)] = try await loop.submit { NIOLoopBound(MediaScheduler(eventLoop: loop), eventLoop: loop) }.get()
}
let loopSchedulers = schedulers

func runLevel(_ calls: Int) async throws -> (cpu: Double, delivered: Double, received: Int, expected: Int) {
    let legs = NIOLockedValueBox<[NIOLoopBound<MediaSocket>]>([])
    for c in 0..<calls {
        let loop = group.next()
        let keyA = (0..<30).map { UInt8(truncatingIfNeeded: $0 &+ c) }, keyB = (0..<30).map { UInt8(truncatingIfNeeded: 200 &- $0 &+ c) }
        let scheduler = loopSchedulers[ObjectIdentifier(loop)]!
        let pair = try await loop.submit { () -> (NIOLoopBound<MediaSocket>, NIOLoopBound<MediaSocket>) in
            let meta = MediaSocket(leg: MediaLeg(side: .meta, security: .sdes(profile: .aesCM128HmacSHA1_80, local: keyA, remote: keyB),
                                                 remote: ([127, 0, 0, 1], 0), ice: nil, seed: UInt64(2 * c + 1)), eventLoop: loop,
                                   scheduler: scheduler.value)
            let biz = MediaSocket(leg: MediaLeg(side: .business, security: .sdes(profile: .aesCM128HmacSHA1_80, local: keyB, remote: keyA),
                                                remote: ([127, 0, 0, 1], 0), ice: nil, seed: UInt64(2 * c + 2)), eventLoop: loop,
                                  scheduler: scheduler.value)
            return (NIOLoopBound(meta, eventLoop: loop), NIOLoopBound(biz, eventLoop: loop))
        }.get()
        let metaPort = try await loop.flatSubmit { pair.0.value.bind() }.get()
        let bizPort = try await loop.flatSubmit { pair.1.value.bind() }.get()
        try await loop.submit {
            pair.0.value.leg!.remote = ([127, 0, 0, 1], UInt16(bizPort))
            pair.1.value.leg!.remote = ([127, 0, 0, 1], UInt16(metaPort))
            pair.0.value.start()
            pair.1.value.start()
        }.get()
        legs.withLockedValue { $0 += [pair.0, pair.1] }
    }
    // Let every call get going, then measure a steady window.
    try await Task.sleep(nanoseconds: 500_000_000)
    // One submit per loop reads all of its legs at one instant: per-leg submits on a saturated loop would
    // stretch the snapshot over seconds and count frames from outside the window.
    let all = legs.withLockedValue { $0 }
    let byLoop = Dictionary(grouping: all.indices, by: { ObjectIdentifier(all[$0].eventLoop) })
    func received() async throws -> Int {
        var futures: [EventLoopFuture<Int>] = []
        for indices in byLoop.values {
            let loop = all[indices[0]].eventLoop
            let mine = indices.map { all[$0] }
            futures.append(loop.submit { mine.reduce(0) { $0 + $1.value.leg!.metrics.packetsReceived } })
        }
        var total = 0
        for f in futures { total += try await f.get() }
        return total
    }
    let before = try await received()
    let cpuBefore = cpuSeconds()
    let wallBefore = Date()
    try await Task.sleep(nanoseconds: UInt64(secondsPerLevel * 1e9))
    let wall = Date().timeIntervalSince(wallBefore)
    let cpu = cpuSeconds() - cpuBefore
    let got = try await received() - before
    for leg in legs.withLockedValue({ $0 }) { try await leg.eventLoop.submit { leg.value.close() }.get() }
    let expected = Int(Double(2 * calls) * 50 * wall)
    return (cpu / wall, Double(got) / Double(max(1, expected)), got, expected)
}

print("Concurrent full-media calls (SDES-SRTP, 50 packets/s each way, both legs in this process, \(cores) cores, \(secondsPerLevel) s per level)")
print("| calls | packets/s | CPU (cores) | CPU per call | delivered |")
print("|---|---|---|---|---|")
var sustained = 0
// Doubling to 400, then steps of 200, so the limit is found to within 200 calls.
var level = 50
while level <= maxCalls {
    let r = try await runLevel(level)
    let pps = Double(r.received) / secondsPerLevel
    print(String(format: "| %d | %.0f | %.2f | %.2f %% | %.1f %% |", level, pps, r.cpu, r.cpu / Double(level) * 100, r.delivered * 100))
    if r.delivered >= 0.99 && r.cpu < 0.9 * Double(cores) { sustained = level } else { break }
    level = level < 400 ? level * 2 : level + 200
}
print("")
print("sustained: \(sustained) concurrent full-media calls (both ends in one process; a mock facing a real SBC carries one leg per call, about twice as many)")
try await group.shutdownGracefully()
