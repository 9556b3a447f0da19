"""The web chat channel: a page with a WebSocket underneath, and a JSON endpoint for simple clients."""
