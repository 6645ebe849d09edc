"""Everything platform-facing: message types, the gateway, the dialogue client, the adapters."""
