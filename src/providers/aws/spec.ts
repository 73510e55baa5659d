// The type of spec.provider.aws, inferred from its CRD schema.
import type { TypeOf } from '../../api/schema.ts';
import type { awsProvider } from '../../api/v1alpha1/providers/aws.ts';

export type AwsSpec = TypeOf<ReturnType<typeof awsProvider>>;
