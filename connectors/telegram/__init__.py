"""The Telegram channel (python-telegram-bot 22): polling or webhook, buttons, photos, locations."""
