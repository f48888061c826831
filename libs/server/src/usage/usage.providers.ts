import type { Provider } from '@nestjs/common';
import {
  ClientKeyCredentials,
  ClientSecretCredentials,
  CREDENTIAL_SOURCES,
  FederatedCredentials,
} from './credential-sources.js';
import { CredentialUsageRecorder } from './credential-usage.recorder.js';
import { CredentialUsageService } from './credential-usage.service.js';

/** One source per credential type; a new type is one more class here. */
const SOURCES = [ClientSecretCredentials, ClientKeyCredentials, FederatedCredentials];

export const USAGE_PROVIDERS: Provider[] = [
  ...SOURCES,
  {
    provide: CREDENTIAL_SOURCES,
    inject: SOURCES,
    useFactory: (...sources: InstanceType<(typeof SOURCES)[number]>[]) => sources,
  },
  CredentialUsageRecorder,
  CredentialUsageService,
];
