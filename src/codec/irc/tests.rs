//! Unit tests of the IRC codec: registration, numerics, rendering. (Filled in below.)
