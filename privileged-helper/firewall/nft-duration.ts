// An element timeout as nft 1.0.6 takes it. nft refuses a seconds figure of nine digits or
// more ("value too large" from 100,000,000 s, about 3.2 years), and one refused element
// fails the whole command it is in, so a long BLOCK_TIMEOUT (up to 3650 days) or a fleet
// ban batched with local blocks would take them down with it. Days and seconds reach as far
// as the kernel goes. Pure.

/** nft's largest plain seconds figure. */
const MAX_PLAIN_SECONDS = 99_999_999;

/** `${n}s` up to nft's limit for that form, `${days}d${seconds}s` beyond it. */
export function nftDuration(seconds: number): string {
  if (seconds <= MAX_PLAIN_SECONDS) return `${seconds}s`;
  return `${Math.floor(seconds / 86_400)}d${seconds % 86_400}s`;
}
