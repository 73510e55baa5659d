// The type of spec.provider.gcpsm, inferred from its CRD schema.
import type { TypeOf } from '../../api/schema.ts';
import type { gcpsmProvider } from '../../api/v1alpha1/providers/gcpsm.ts';

export type GcpSpec = TypeOf<ReturnType<typeof gcpsmProvider>>;
export type GcpAuthSpec = NonNullable<GcpSpec['auth']>;
export type WorkloadIdentitySpec = NonNullable<GcpAuthSpec['workloadIdentity']>;
