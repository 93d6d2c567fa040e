"""What each command prints: one presenter per command, and the console primitives they share."""
