/** NOTIFY channel that wakes delivery workers when there is new work. */
export const DELIVERY_CHANNEL = 'switchboard_deliveries';
/** Payload on DELIVERY_CHANNEL when delivery rows are new and due (a claim finds them; no fan-out to run). */
export const NEW_DELIVERIES_ONLY = 'deliveries';
/** Payload on DELIVERY_CHANNEL when events with pending fan-outs are new (nothing to claim before their fan-out). */
export const NEW_EVENTS = 'events';
