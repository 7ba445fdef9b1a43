import Foundation
import LuaHost

// Nanoseconds per call of a trivial Swift function called from a Lua loop, against the same loop
// calling a C function of the standard library (math.abs). Best of several rounds each, the
// rounds interleaved so both see the same machine.

let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 5_000_000
let rounds = 7

let state = try LuaState()
try state.setGlobal("swift_identity") { args in
    .value(.integer(args.integer(1) ?? 0))
}
try state.run("""
    function bench(f, n)
      local clock = os.clock
      local t0 = clock()
      local x = 0
      for i = 1, n do x = f(i) end
      return (clock() - t0) * 1e9 / n
    end
    """)

func nanosecondsPerCall(_ function: String) throws -> Double {
    let result = try state.run("return bench(\(function), \(calls))")
    return result.first?.numberValue ?? .nan
}

var best: [String: Double] = ["math.abs": .infinity, "swift_identity": .infinity]
for _ in 0..<rounds {
    for name in ["math.abs", "swift_identity"] {
        best[name] = min(best[name]!, try nanosecondsPerCall(name))
    }
}
let c = best["math.abs"]!, swift = best["swift_identity"]!
print(String(format: "C function (math.abs):          %7.1f ns/call", c))
print(String(format: "Swift function (swift_identity): %7.1f ns/call", swift))
print(String(format: "ratio Swift/C: %.2fx (target: at most 2.00x) — best of %d rounds of %d calls", swift / c, rounds, calls))
