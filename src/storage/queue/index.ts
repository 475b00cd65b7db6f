// The delivery queue's storage in one place: claiming due deliveries, turning fan-outs into deliveries (leased to
// the caller when it has room), settling attempts, giving leases back, worker heartbeats, and the NOTIFY protocol
// that wakes workers. The deliveries table is the queue and the delivery log at once.
export * from './claim.ts';
export * from './fanout.ts';
export * from './heartbeats.ts';
export * from './notify.ts';
export * from './settle.ts';
