import Foundation

/// The package root, found from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The labctl binary under test: $LABCTL, or the debug build.
let labctlPath: String = ProcessInfo.processInfo.environment["LABCTL"]
    ?? packageRoot.appendingPathComponent(".build/debug/labctl").path

/// The result of running a program to completion.
struct CommandResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `executable` with `arguments`, feeding `input` on stdin.
func run(_ executable: String, _ arguments: [String] = [], input: String? = nil,
         environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    // stderr goes to a file so that neither stream can block the other.
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-test-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let errHandle = try FileHandle(forWritingTo: errURL)
    let outPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errHandle
    process.standardInput = inPipe
    try process.run()
    try errHandle.close()
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inPipe.fileHandleForWriting.close()
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errData = try Data(contentsOf: errURL)
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs labctl.
func labctl(_ arguments: String..., input: String? = nil) throws -> CommandResult {
    try run(labctlPath, arguments, input: input)
}

/// Parses JSON output into Foundation objects.
func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}
