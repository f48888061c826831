import type { ValueTransformer } from 'typeorm';

/** bigint columns come back as strings from PostgreSQL; epoch seconds fit a JS number. */
export const epochSeconds: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
