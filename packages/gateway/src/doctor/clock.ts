import { bucketRequest, networkReason } from './request.ts';
import { type CheckResult, type DoctorContext, fail, pass, warn } from './types.ts';

const NAME = 'clock-skew';
/** Above this, grants (≥ 60 s lifetime) may already be expired when a browser gets them. */
export const WARN_SKEW_MS = 60_000;
/** "must be within 15 minutes of the AWS system time": past this SigV4 refuses every request. */
export const FAIL_SKEW_MS = 15 * 60_000;

const FIX = "sync this machine's clock and storage's with NTP (timedatectl set-ntp true, or chrony)";

/**
 * This machine's clock against storage's, from the Date header of an (unsigned) HEAD of the
 * bucket: any answer, a 403 included, carries one. Date has whole seconds, so the server's time
 * is taken as Date + 0.5 s, compared with the midpoint of the request: ±1 s plus half the round
 * trip, which is far below either threshold.
 */
export async function checkClock(ctx: DoctorContext): Promise<CheckResult> {
  let date: string | null;
  let sent: number;
  let received: number;
  try {
    sent = ctx.now();
    const res = await bucketRequest(ctx, { method: 'HEAD', anonymous: true });
    received = ctx.now();
    date = res.headers.get('date');
  } catch (e) {
    return fail(NAME, `storage does not answer: ${networkReason(e)}`, 'see the credentials check');
  }
  const server = date === null ? Number.NaN : Date.parse(date);
  if (Number.isNaN(server)) {
    return warn(
      NAME,
      `storage sent ${date === null ? 'no Date header' : `an unreadable Date header (${date})`}: skew not measured`,
      'make sure both clocks are synced with NTP',
    );
  }
  const skew = server + 500 - (sent + received) / 2;
  const rtt = received - sent;
  const said = `storage's clock is ${describe(skew)} this machine's (Date: ${date}; ±${Math.ceil((1000 + rtt) / 2000)} s)`;
  if (Math.abs(skew) > FAIL_SKEW_MS)
    return fail(NAME, `${said}: over 15 min, so storage refuses every signed request`, FIX);
  if (Math.abs(skew) > WARN_SKEW_MS)
    return warn(NAME, `${said}: over 60 s, so short grants may look expired to one side`, FIX);
  return pass(NAME, said);
}

function describe(skewMs: number): string {
  const s = Math.round(Math.abs(skewMs) / 1000);
  if (s <= 1) return 'within 1 s of';
  const amount = s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
  return `${amount} ${skewMs > 0 ? 'ahead of' : 'behind'}`;
}
