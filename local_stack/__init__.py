"""Run the chat backend on one machine: moto, the WebSocket emulator and the bundled functions."""
