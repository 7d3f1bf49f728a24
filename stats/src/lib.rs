//! vibariant-stats (being built).
