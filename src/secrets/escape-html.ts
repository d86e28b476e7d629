import { charWithin, decimalNumber, hexNumber, read } from './escape-reader.ts';

// HTML character references, for the scrubber's decoder: `&#NN;`, `&#xHH;` (or `&#XHH;`), and the
// names HTML gives ASCII punctuation and Latin-1, each with its `;`.

const HASH = 35;
const SEMICOLON = 59;
/** HTML's names of ASCII punctuation and of Latin-1 (U+00A0 to U+00FF), by name. */
const NAMED: ReadonlyMap<string, string> = new Map([
  ...(
    [
      ['Tab', '\t'],
      ['NewLine', '\n'],
      ['excl', '!'],
      ['quot', '"'],
      ['QUOT', '"'],
      ['num', '#'],
      ['dollar', '$'],
      ['percnt', '%'],
      ['amp', '&'],
      ['AMP', '&'],
      ['apos', "'"],
      ['lpar', '('],
      ['rpar', ')'],
      ['ast', '*'],
      ['plus', '+'],
      ['comma', ','],
      ['period', '.'],
      ['sol', '/'],
      ['colon', ':'],
      ['semi', ';'],
      ['lt', '<'],
      ['LT', '<'],
      ['equals', '='],
      ['gt', '>'],
      ['GT', '>'],
      ['quest', '?'],
      ['commat', '@'],
      ['lsqb', '['],
      ['lbrack', '['],
      ['bsol', '\\'],
      ['rsqb', ']'],
      ['rbrack', ']'],
      ['Hat', '^'],
      ['lowbar', '_'],
      ['grave', '`'],
      ['lcub', '{'],
      ['lbrace', '{'],
      ['verbar', '|'],
      ['vert', '|'],
      ['VerticalLine', '|'],
      ['rcub', '}'],
      ['rbrace', '}'],
    ] as const
  ).map(([name, char]): [string, string] => [name, char]),
  ...'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
    .split(' ')
    .map((name, i): [string, string] => [name, String.fromCharCode(0xa0 + i)]),
]);

/** An HTML character reference at `at` (`&#NN;`, `&#xHH;`, a known name) into `read.point`, or 0. */
export function reference(text: string, at: number): number {
  const end = charWithin(text, SEMICOLON, at + 2, at + 15);
  if (end < 0) return 0;
  if (text.charCodeAt(at + 1) === HASH) {
    const hex = (text.charCodeAt(at + 2) | 0x20) === 120;
    const value = hex ? hexNumber(text, at + 3, end) : decimalNumber(text, at + 2, end);
    if (value < 0 || value > 0x10ffff) return 0;
    read.point = value;
    return end + 1 - at;
  }
  const char = NAMED.get(text.slice(at + 1, end));
  if (char === undefined) return 0;
  read.point = char.charCodeAt(0);
  return end + 1 - at;
}
