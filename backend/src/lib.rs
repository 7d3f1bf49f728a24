//! vibariant-backend (being built).
