// Small in-repo nickname table (English, plus a few common continental short forms). Keys and values are
// normalized (lower-case, no accents). A nickname maps to one canonical given name.
const GROUPS: Record<string, string[]> = {
  robert: ['bob', 'bobby', 'rob', 'robbie', 'bert'],
  william: ['bill', 'billy', 'will', 'willy', 'liam'],
  elizabeth: ['liz', 'lizzie', 'beth', 'betty', 'eliza', 'libby', 'elisabeth'],
  richard: ['dick', 'rick', 'ricky', 'rich', 'richie'],
  james: ['jim', 'jimmy', 'jamie'],
  john: ['johnny', 'jack', 'jon'],
  michael: ['mike', 'mikey', 'mick'],
  margaret: ['maggie', 'meg', 'peggy', 'marge'],
  katherine: ['kate', 'katie', 'kathy', 'kat', 'catherine', 'kathryn', 'cathy'],
  jennifer: ['jen', 'jenny'],
  christopher: ['chris', 'kit'],
  christine: ['chris', 'chrissy', 'christina', 'tina'],
  thomas: ['tom', 'tommy'],
  joseph: ['joe', 'joey'],
  daniel: ['dan', 'danny'],
  david: ['dave', 'davey'],
  edward: ['ed', 'eddie', 'ted', 'ned'],
  anthony: ['tony'],
  alexander: ['alex', 'sasha', 'xander'],
  alexandra: ['alex', 'sandra', 'lexi'],
  patricia: ['pat', 'patty', 'trish'],
  susan: ['sue', 'susie'],
  deborah: ['debbie', 'deb'],
  rebecca: ['becky', 'becca'],
  samuel: ['sam', 'sammy'],
  samantha: ['sam', 'sammy'],
  benjamin: ['ben', 'benny'],
  nicholas: ['nick', 'nicky'],
  matthew: ['matt'],
  andrew: ['andy', 'drew'],
  stephen: ['steve', 'steven'],
  jonathan: ['jon', 'jonny'],
  charles: ['charlie', 'chuck'],
  francis: ['frank', 'fran'],
  frances: ['fran', 'frannie'],
  victoria: ['vicky', 'tori'],
  josephine: ['jo', 'josie'],
  johannes: ['hans', 'jan'],
  wolfgang: ['wolf'],
  francois: ['franck'],
  giuseppe: ['beppe', 'peppe'],
  francesco: ['franco', 'cesco'],
  jose: ['pepe'],
  manuel: ['manolo'],
  dolores: ['lola'],
  ignacio: ['nacho'],
};

/** Ambiguous short forms (chris, alex, sam, jon, fran) map to the first group that lists them. */
const NICKNAMES: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const [canonical, nicks] of Object.entries(GROUPS)) for (const n of nicks) if (!map.has(n)) map.set(n, canonical);
  return map;
})();

/** The canonical given name of a normalized first name (itself when it is no known nickname). */
export function canonicalFirstName(first: string): string {
  return NICKNAMES.get(first) ?? first;
}

/** Nicknames of a canonical name (for the generator). */
export function nicknamesOf(canonical: string): readonly string[] {
  return GROUPS[canonical] ?? [];
}
