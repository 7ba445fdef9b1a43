/// The Lua interpreter front end (built by the foundation work).
enum Interpreter {
    static func main(_ arguments: [String]) -> Int32 { 1 }
}
