// The LiveChatLua module.
