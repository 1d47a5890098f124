//! The offline assistant (to be written).
