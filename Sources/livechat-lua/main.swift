import Foundation

// The entry point: `serve` runs the sandbox alone, `call` one connector-style request, `bulk`
// creates tickets from a CSV file; anything else is the Lua interpreter.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "serve" {
    exit(ServeCommand.main(Array(arguments.dropFirst())))
} else if arguments.first == "call" {
    exit(CallCommand.main(Array(arguments.dropFirst())))
} else if arguments.first == "bulk" {
    exit(BulkCommand.main(Array(arguments.dropFirst())))
} else {
    exit(Interpreter.main(arguments))
}
