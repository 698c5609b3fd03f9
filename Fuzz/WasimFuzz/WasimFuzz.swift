import Foundation

#if FUZZING
/// The target of this fuzzing process, named by `WASIM_FUZZ_TARGET` (scripts/fuzz.sh sets it).
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["WASIM_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("WASIM_FUZZ_TARGET is '\(name)'; one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

/// libFuzzer's entry point (built with `-sanitize=fuzzer,address -DFUZZING`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    fuzzTarget.run(data)
    return 0
}

/// libFuzzer's driver (LLVM 12 and later), which parses the fuzzer's options and runs `callback` per input.
@_silgen_name("LLVMFuzzerRunDriver")
func fuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main` (so that tests can link the module); with no
/// `@main` in a fuzzing build, this one hands the process to libFuzzer's driver.
@_cdecl("wasim_fuzz_main")
public func wasimFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return fuzzerRunDriver(&count, &arguments) { fuzzOneInput($0, $1) }
}
#else
// Without libFuzzer: `wasim-fuzz TARGET FILE|DIR...` runs the files through the target (the regression
// corpus in tests, a crash file when debugging).
@main
struct WasimFuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: wasim-fuzz TARGET FILE|DIR...; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("wasim-fuzz: \(path): no such file or folder\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            target.run(Array(data))
        }
        print("wasim-fuzz \(target.rawValue): \(files.count) inputs, no crash")
    }
}
#endif
