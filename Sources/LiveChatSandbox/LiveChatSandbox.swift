// The LiveChatSandbox module.
