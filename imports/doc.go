// Package imports brings an affiliate roster and historical conversions
// from another platform, idempotently and revertibly, without ever paying
// a commission twice.
package imports
