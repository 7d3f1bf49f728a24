//! vibariant-core (being built).
