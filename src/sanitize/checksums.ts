/** Check digits that confirm a candidate before it is redacted, so ordinary numbers survive. */

/** Luhn (mod 10) check over the digits of `candidate`; other characters are ignored. */
export function passesLuhn(candidate: string): boolean {
  let sum = 0;
  let doubleNext = false;
  for (let index = candidate.length - 1; index >= 0; index--) {
    const code = candidate.charCodeAt(index);
    if (code < 48 || code > 57) continue;
    let digit = code - 48;
    if (doubleNext) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    doubleNext = !doubleNext;
  }
  return sum % 10 === 0;
}

/**
 * IBAN lengths per country (ISO 13616 registry). A candidate from an unlisted country, or of
 * the wrong length, is not an IBAN: this keeps uppercase identifiers like `AB12CDEF…` intact.
 */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  [
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27',
    'DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28',
    'IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22',
    'MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24',
    'SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30',
  ]
    .join(' ')
    .split(' ')
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))] as const),
);

/** Country-registered length and ISO 7064 mod-97 check; spaces are ignored. */
export function isValidIban(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '');
  if (IBAN_LENGTHS.get(iban.slice(0, 2)) !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let index = 0; index < rearranged.length; index++) {
    const code = rearranged.charCodeAt(index);
    if (code >= 48 && code <= 57) {
      remainder = (remainder * 10 + (code - 48)) % 97;
    } else if (code >= 65 && code <= 90) {
      remainder = (remainder * 100 + (code - 55)) % 97;
    } else {
      return false;
    }
  }
  return remainder === 1;
}

/**
 * Issuer prefix and length of the major card schemes (Visa, Mastercard, Amex, Discover, JCB,
 * Diners, UnionPay, Maestro, Mir). Together with Luhn this keeps ordinary long numbers, such as
 * epoch-millisecond timestamps (which start with 1), from being taken for card numbers.
 */
function hasCardIssuerPrefix(digits: string): boolean {
  const length = digits.length;
  const first = digits.charCodeAt(0) - 48;
  const two = Number(digits.slice(0, 2));
  const three = Number(digits.slice(0, 3));
  const four = Number(digits.slice(0, 4));
  if (first === 4) return length === 13 || length === 16 || length === 19;
  if (two >= 51 && two <= 55) return length === 16;
  if (four >= 2221 && four <= 2720) return length === 16;
  if (four >= 2200 && four <= 2204) return length >= 16;
  if (two === 34 || two === 37) return length === 15;
  if ((three >= 300 && three <= 305) || two === 36 || two === 38 || two === 39) {
    return length >= 14;
  }
  if (four >= 3528 && four <= 3589) return length >= 16;
  if (first === 6) return length >= 13;
  if (two === 50 || (two >= 56 && two <= 58)) return length >= 13;
  return false;
}

/** 13–19 digits (spaces, dots and dashes ignored) with a known issuer prefix and a valid Luhn check digit. */
export function isPaymentCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ .-]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  return hasCardIssuerPrefix(digits) && passesLuhn(digits);
}
