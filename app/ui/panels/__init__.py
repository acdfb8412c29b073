"""The detail panels for the selected capture: Decoded, Verification, Raw HTTP."""
