"""The conversation core: one path for every channel between citizens, the bot and operators."""
