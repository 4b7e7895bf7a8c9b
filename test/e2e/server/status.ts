/**
 * metav1.Status bodies with the apiserver's exact wording (k8s.io/apimachinery/pkg/api/errors and
 * apiserver/pkg/endpoints/handlers/responsewriters), since kubectl prints `Error from server (<reason>): <message>`.
 */

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[] };
  code: number;
}

export function status(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const gr = (group: string, resource: string): string => (group ? `${resource}.${group}` : resource);
const det = (group: string, resource: string, name?: string): NonNullable<Status['details']> => ({ ...(name ? { name } : {}), ...(group ? { group } : {}), kind: resource });

export function notFound(group: string, resource: string, name: string): Status {
  return status(404, 'NotFound', `${gr(group, resource)} "${name}" not found`, det(group, resource, name));
}

/** 404 for an unknown path or resource: "the server could not find the requested resource". */
export function notFoundPath(): Status {
  return status(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(group: string, resource: string, name: string): Status {
  return status(409, 'AlreadyExists', `${gr(group, resource)} "${name}" already exists`, det(group, resource, name));
}

export interface AuthzAttributes {
  user: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** responsewriters.Forbidden + forbiddenMessage, byte for byte. */
export function forbidden(a: AuthzAttributes, reason = ''): Status {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  let msg = `User "${a.user}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}`;
  if (reason) msg = `${msg}: ${reason}`;
  const who = a.name ? `${gr(a.group, a.resource)} "${a.name}"` : gr(a.group, a.resource);
  return status(403, 'Forbidden', `${who} is forbidden: ${msg}`, det(a.group, a.resource, a.name));
}

export function badRequest(message: string): Status {
  return status(400, 'BadRequest', message);
}

export function internalError(message: string): Status {
  return status(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function unauthorized(): Status {
  return status(401, 'Unauthorized', 'Unauthorized');
}

export function methodNotAllowed(method: string): Status {
  return status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, { causes: [{ message: method }] });
}

export const SUCCESS = { metadata: {}, status: 'Success' } as const;

/** What the kubelet reports on the exec error channel when the command exits non-zero. */
export function exitCodeStatus(command: string[], code: number): Record<string, unknown> {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}
