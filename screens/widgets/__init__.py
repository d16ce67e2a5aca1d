"""Small reusable widgets shared by the wizard's screens."""
