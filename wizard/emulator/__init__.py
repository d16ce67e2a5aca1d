"""Local HTTPS emulator of the Azure APIs cmk-wizard uses (ARM and Key Vault data plane)."""
