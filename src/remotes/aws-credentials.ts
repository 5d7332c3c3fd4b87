import { readFileSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { RemoteError } from './errors.js';
import type { RemoteSpec } from './types.js';

/**
 * The AWS shared credentials file (`remote.<name>.credentials_file`): the INI format of `~/.aws/credentials`,
 * read for one profile's static keys. The SDK's own loader reads only the default locations; this
 * reads the file the remote names, with errors that name the remote and the file.
 */
export /** Static keys of one profile of an AWS shared credentials file (remote.<name>.credentials_file). */
function readCredentialsFile(spec: RemoteSpec, file: string, profile: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RemoteError('REMOTE_NO_CREDENTIALS', `Remote "${spec.name}": cannot read the credentials file ${file} (${errnoCode(err) ?? (err as Error).message})`, {
      reason: 'auth',
      fatal: true,
      hint: `Fix remote.${spec.name}.credentials_file (dvs remote modify --local ${spec.name} credentials_file <path>).`,
    });
  }
  const values: Record<string, string> = {};
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (head) {
      section = head[1];
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && section === profile) values[kv[1].toLowerCase()] = kv[2];
  }
  if (!values.aws_access_key_id || !values.aws_secret_access_key) {
    throw new RemoteError('REMOTE_NO_CREDENTIALS', `Remote "${spec.name}": profile "${profile}" of ${file} has no aws_access_key_id and aws_secret_access_key`, {
      reason: 'auth',
      fatal: true,
      hint: `Add them under [${profile}], or pick another profile: dvs remote modify ${spec.name} profile <name>`,
    });
  }
  return { accessKeyId: values.aws_access_key_id, secretAccessKey: values.aws_secret_access_key, sessionToken: values.aws_session_token };
}
