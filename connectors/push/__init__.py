"""Case updates pushed to citizens on the channel their case came from."""
