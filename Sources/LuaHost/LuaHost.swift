// The LuaHost module.
