//! Binnacle REST + SSE API.
