import type { RemoteBackend, RemoteSpec } from './types.js';

/**
 * Open the backend for a remote. Each backend module is imported only here and only when a remote of
 * that kind is used, so that the AWS, Google and Azure SDKs cost nothing to commands that do not need them.
 */
export async function openBackend(spec: RemoteSpec): Promise<RemoteBackend> {
  switch (spec.location.scheme) {
    case 'local': {
      const { LocalBackend } = await import('./local.js');
      return new LocalBackend(spec);
    }
    case 's3': {
      const { S3Backend } = await import('./s3.js');
      return S3Backend.open(spec);
    }
    case 'gcs': {
      const { GcsBackend } = await import('./gcs.js');
      return GcsBackend.open(spec);
    }
    case 'ssh': {
      const { SshBackend } = await import('./ssh.js');
      return SshBackend.open(spec);
    }
    case 'http': {
      const { HttpBackend } = await import('./http.js');
      return HttpBackend.open(spec);
    }
    case 'azure': {
      const { AzureBackend } = await import('./azure.js');
      return AzureBackend.open(spec);
    }
  }
}

export type { RemoteBackend, RemoteSpec } from './types.js';
