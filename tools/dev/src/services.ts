/** Every service the launcher starts, in start order. A new service adds one line here. */
export const services = [
  { name: "fx", entry: "services/fx/src/main.ts", port: 50055, metricsPort: 9155 },
] as const;
