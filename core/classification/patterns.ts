/**
 * Pattern lists for the query classifier, compiled once at module load.
 *
 * Every pattern runs on normalised text: lower case, straight apostrophes,
 * emoji and emoticons removed, single spaces, no trailing punctuation.
 * Simple-path patterns are anchored on both ends on purpose: a message is
 * simple only when the whole of it fits a known shape, so an unexpected
 * clause sends it to the planner (the cheap mistake) rather than past it.
 */

/** Above this many words a message is never simple. */
export const MAX_SIMPLE_WORDS = 20;
/** Above this many characters a message is never simple. */
export const MAX_SIMPLE_CHARS = 160;
/** Only this many characters are ever scanned; longer messages are long by definition. */
export const MAX_SCAN_CHARS = 1000;
/** Longest remainder (in words) a fact lookup may have after its opener. */
export const MAX_LOOKUP_WORDS = 12;

export const CURLY_QUOTES = /[\u2018\u2019\u02bc`]/g;
export const EMOJI =
  /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0F|\u200D|(?:^|\s)[:;]-?[)(dp](?=\s|$)/gu;
export const SPACES = /\s+/g;
/** Stretched letters ("heyyy", "thanksss") collapse to one. */
export const STRETCHED = /([a-z])\1{2,}/g;
/** Trimmed from both ends of a message before matching. */
export const EDGE_CHARS = ' .,!?;:~-\u2013\u2014¡¿';

/** Words that alone, in any mix, make a courtesy message (greeting, thanks, goodbye). */
export const COURTESY_WORDS = new Set(
  (
    'hi hey heya hello hiya howdy yo sup gm gn hola bonjour hallo ciao salut good morning afternoon ' +
    'evening night thanks thank thx ty tysm tyvm cheers appreciate appreciated ok okay k kk cool ' +
    'got perfect awesome great nice sounds makes sense noted alright lol haha hahaha lmao wow yay ' +
    'bye goodbye later see talk soon cya ttyl tomorrow helps helpful amazing wonderful excellent ' +
    'sweet brilliant rock rocks catch ton welcome np nite goodnight love'
  ).split(' '),
);
/** Words allowed next to courtesy words but not alone ("so much", "hi there", "you rock"). */
export const COURTESY_FILLERS = new Set(
  'you so much very a lot lots it the there again all everyone claude assistant buddy friend mate guys that really u this for now'.split(
    ' ',
  ),
);
export const THANKS_WORD = /\b(?:thanks|thank|thx|ty|tysm|tyvm|cheers|appreciate)/;
export const GREETING_WORD =
  /\b(?:hi|hey|heya|hello|hiya|howdy|yo|gm|hola|bonjour|hallo|ciao|salut|good (?:morning|afternoon|evening)|morning)\b/;

/** Greetings, acknowledgements and fillers that may open any message ("hey, quick one — …"). */
export const LEADING_FILLER =
  /^(?:(?:hi|hey|heya|hello|hiya|yo|good (?:morning|afternoon|evening)|morning|ok|okay|oh|so|um|uh|thanks|thank you|thx|cool|great|quick (?:one|question|q)|real quick|btw|also|claude)(?: there| again)?(?:[\s,.!:;\u2013\u2014-]+|$))+/;
/** Tails that add nothing to a lookup or statement ("… again", "? I always forget", "btw"). */
export const TRAILING_FILLER =
  /(?:[\s,.!?;]+(?:again|please|pls|thanks|thank you|thx|btw|lol|haha|now|real quick|i always forget|i keep forgetting|i forgot|i can'?t remember))+$/;

export const SMALL_TALK =
  /^(?:how are (?:you|u)(?: doing| today)?|how r u|how(?:'s| is) it going(?: today)?|how(?:'s| is| has) your (?:day|morning|week|weekend|night)(?: going| been)?|how have you been|what'?s up|wassup|what'?s new|how(?:'s| is) life|how are things(?: going)?|hope you(?:'re| are) (?:doing )?(?:well|good|ok|okay)(?: today)?|hope you had a (?:nice|good|great) (?:day|night|weekend|morning)|hope your (?:day|week|weekend|morning) (?:is|was|has been) (?:going )?(?:well|good|great)|you(?:'re| are) (?:the best|awesome|amazing|great|funny|so helpful|a lifesaver)|good (?:bot|job|answer)|(?:(?:haha|lol) )?that(?:'s| is| was) (?:(?:really|so|very|super) )?(?:funny|hilarious|great|awesome|cool|perfect|helpful|exactly what i (?:needed|wanted))|that help(?:s|ed)|(?:that|it) worked)(?: lol| haha)?$/;

/** Lookups needing no memories: arithmetic, spelling, unit conversions, capitals. */
export const GENERAL_LOOKUP =
  /^(?:(?:what(?:'s| is)|calculate) [\d.,%]+(?: ?(?:[+\-*/x^]|times|plus|minus|divided by|multiplied by|of) ?[\d.,%]+)+|how do (?:you|i) spell [\w'-]+|how many [\w-]+ (?:are )?(?:in|per) (?:a|an|one) [\w-]+|what(?:'s| is) the capital (?:city )?of [a-z ]+|what time is it|what(?:'s| is) (?:the date|today'?s date)(?: today)?|what day is (?:it|today))$/;

/** Ends the head of a "what …" lookup: "the name | of that Thai place", "my strategy | for …". */
const HEAD = String.raw`(?: (?!(?:of|for|from|at|with|in(?! law)|on|to|about|that|going|if|when|so)\b)[\w'-]+)*`;
const NOT_VERB = String.raw`(?!(?:should|would|could|can|will|shall|might|must|do|does|did|is|are|was|were|am|i|we|you|they|he|she|it|of)\b)`;

/**
 * Fact-lookup shapes. Named group `rest` must pass the blockers; where a
 * shape has a `head` group, the head must also name a concrete attribute
 * (FACT_NOUN), because "what's my X" with an abstract X ("move", "chances",
 * "strategy") asks for judgement, and no blocklist can list every such X.
 */
export const LOOKUP_SHAPES: readonly RegExp[] = [
  // "what's my wife's name", "what was the book Jen recommended"
  new RegExp(
    String.raw`^(?:what|wats?)(?:'s|s|'re| is| was| are| were) (?<rest>(?<head>(?:my|our|the|his|her|their|that|[\w-]+'s?)${HEAD}).*)$`,
  ),
  // "when is Mia's recital", "where do I work", "who's my plumber"
  /^(?:when|where|who)(?:'s|s| is| was| are| were) (?<rest>(?:my|our|the|his|her|their|that|[\w-]+'s?) .+)$/,
  /^(?:when|where|who)(?: do| does| did) (?<rest>(?:i|we|my|our|the|[\w-]+'s?) .+)$/,
  // "what car do I drive", "which gym do I go to", "what kind of dog do I have"
  new RegExp(
    String.raw`^(?:what|which)(?<head>(?: (?:kind|type|sort|brand|make|model) of)?(?: ${NOT_VERB}[\w'-]+){1,2}) (?:is|was|do|does|did|am) (?<rest>.+)$`,
  ),
  /^what did (?:i|we) (?<rest>(?:name|call|order|buy|get|book|pick|pay for) .+)$/,
  /^how (?:old|tall) (?:is|am|are|was) (?<rest>.+)$/,
  /^how much (?:is|was|does) (?<rest>(?:my|our|the) .+)$/,
  /^do (?:i|we) have (?<rest>(?<head>(?:a|an|any|anything)\b(?: [\w'-]+){0,3}).*)$/,
  /^am i (?<rest>(?:allergic to|on call|signed up for|registered for|booked) .*)$/,
  /^(?:(?:can|could) you (?:tell|remind) me|tell me|remind me(?: of)?) (?<rest>(?<head>(?:my|our) [\w'-]+(?: [\w'-]+){0,3}))$/,
  /^(?:remind me|tell me|do you (?:know|remember)|can you (?:remind|tell) me|any idea|i forg[eo]t) (?<rest>what (?<head>.+)|(?:when|where|who|which) .+)$/,
];

/** Concrete attributes a one-step lookup can return. */
export const FACT_NOUN =
  /\b(?:names?|called|named|nicknames?|birthdays?|year|month|bday|birth ?date|dob|anniversary|address(?:es)?|numbers?|phone|cell|mobile|e-?mail|password|passcode|pin|codes?|combination|id|username|login|handle|account|sizes?|plate|vin|model|make|brand|colou?r|kind|type|sort|breed|order|job|title|employer|company|school|grade|class|teacher|doctor|dentist|vet|pediatrician|therapist|bedtime|schedule|time|date|day|weight|height|age|heart rate|dose|dosage|medications?|meds|prescription|allerg\w*|favou?rite|hint|flight|seat|gate|train|appointments?|meetings?|reservation|booking|confirmation|policy|provider|insurer|insurance|membership|salary|rent|deadline|hours|location|zip|postcode|city|town|hometown|street|major|degree|book|movie|film|song|show|restaurant|place|hotel|wine|beer|drink|coffee|recipe|website|url|link|room|office|extension|car|gym|airline|bank|team|anything|blood|license|passport|ticket|terminal|platform|shoe|shirt|ring)\b/;

/** Words that turn a lookup-shaped question into one needing judgement or synthesis. */
export const LOOKUP_BLOCKERS =
  /\b(?:should|shall|would|could|might|can|best|better|worst|ideal|biggest|most|least|right|wrong|next steps?|plans?|advice|recommend|suggest|think|feel|feeling|why|how|if|given|based|considering|compar\w*|vs|versus|whether|and|also|or|but|because|trend\w*|patterns?|chang\w*|progress|over time|lately|recently|everything|all|overall|summar\w*|problem|issue|risk|worth|enough|afford|good|bad|normal|typical|track record|weakness\w*|strengths?|love language|target|goals?|point|meaning|difference|deal|thoughts|opinion|ways?|options?|approach|ideas?|decid\w*|conclu\w*|reasons?|usually|typically|normally|often|always|never|been|main|things|know|stress\w*|worr\w*|anxious|happ\w*|sad|history|relationship|story|situation|stand\w*|help|need|want|you|me|us|even|begin|struggl\w*|too|really|going on)\b/;

/** Explicit requests to store something ("remember that …", "note: …", "fyi …"). */
export const REMEMBER =
  /^(?:please |pls )?(?:remember|note|save|store|don'?t forget|do not forget|fyi|for the record|just so you know|heads up|note to self|keep in mind)(?: this| that)?(?:[\s:,\u2013\u2014-]+)(.+)$/;

/** Plain statements of a fact about the user ("my X is Y", "I'm vegetarian", "I live in …"). */
export const STATEMENT_SHAPES: readonly RegExp[] = [
  /^(?:my|our) [\w'-]+(?: [\w'-]+){0,3} (?:is|are|was|goes by|lives|works|plays|likes|loves|hates|prefers|starts|ends|expires|changed to|(?:just )?moved (?:to|into|back))\b/,
  /^i(?:'m| am) (?:(?:a|an) [\w'-]+(?: [\w'-]+){0,2}|\d{1,3}(?: years old)?|vegetarian|vegan|pescatarian|gluten[- ]free|lactose intolerant|diabetic|left[- ]handed|right[- ]handed|married|single|divorced|engaged|retired|pregnant|allergic to .+|based in .+|from .+|(?:training|studying|saving) for .+|learning .+|moving to .+|on call .+|(?:working|employed) (?:at|as|for) .+)$/,
  /^i (?:just )?(?:live|moved|started|work|prefer|don'?t eat|do not eat|can'?t eat|don'?t drink|take|drive|own|have (?:a|an|two|three|\d+)|use|go to|switched|got (?:a|an) new|bought|adopted|joined)\b/,
];

/** Anything in a statement that makes it a request, a question or a cry for support. */
export const STATEMENT_BLOCKERS =
  /\?|\b(?:(?:is|are|was|were) (?:being|\w+ing)|diagnosed|me|myself|us|can you|could you|would you|will you|help|plan|suggest|recommend|what|how|why|should|would|write|draft|make|create|find|tell me|give me|any|ideas?|think|feel|feeling|sad|depressed|lonely|scared|terrified|anxious|stressed|angry|upset|worried|exhausted|tired|awful|terrible|failure|guilty|overwhelmed|burn(?:ed|t) out|panic\w*|died|passed away|broke up|divorce|cancer|sick|struggling|stuck|lost|mess|bad|mad|too|question|problem|issue|but|miss|afraid|hurt|cry\w*|when|where|who|whom|which|whether|if|hospital|surgery|emergency|accident|fired|laid off|broken|failing|fail|not working|isn't|aren't|wasn't|won't|doesn't|didn't|hasn't|haven't)\b/;

/** A second sentence or a second request joined to the first. */
export const MULTI_PART =
  /(?<!\b(?:mr|mrs|ms|dr|st|jr|sr|vs|etc))[.?!;]\s+\S|\?.*\?|(?:,|\s)\s*(?:and|also|then|plus|but)\s+(?:can|could|would|will|what|how|why|when|where|who|which|should|is|are|do|does|did|tell|give|suggest|recommend|help|plan|find|make|write|remind|list|check|let)\b|,\s*(?:can you|could you|help|what|how|why|should|please|tell|give|suggest|any)\b/;

/** Loose self-disclosure at a clause start: a save hint on messages that go to the planner. */
export const SELF_DISCLOSURE =
  /(?:^|[,.;:!?]\s*)(?:remember|note|i'm|i am|i have|i've|i live|i work|i moved|i started|i prefer|i don'?t eat|my [\w'-]+(?: [\w'-]+)? (?:is|are|was))\b/;

/** Which planner-bound kind of message this is; for diagnostics only. */
export const COMPLEX_REASONS = [
  [
    'reflective',
    /\b(?:why|patterns?|over time|lately|compar\w*|chang\w*|progress|trend\w*|summar\w*|overview|reflect|everything|how (?:have|has)|evolv\w*|usually|always|keep)\b/,
  ],
  [
    'advice',
    /\b(?:should|would|could|recommend|suggest|help|advice|tips?|ideas?|plan|best|worth|afford|think|thoughts)\b/,
  ],
  [
    'emotional',
    /\b(?:sad|down|depressed|lonely|scared|terrified|anxious|stressed|angry|upset|worried|exhausted|awful|terrible|failure|guilty|panic|passed away|broke up|cry\w*)\b/,
  ],
  [
    'task',
    /\b(?:write|draft|fix|debug|review|create|make|build|translate|explain|summarize|list|organize)\b/,
  ],
] as const;

/** Letters outside basic Latin, or common function words of other languages. */
export const NON_ENGLISH =
  /[¿¡]|[^\p{ASCII}\u00c0-\u024f\s\p{P}\p{S}\p{N}]|\b(?:el|los|las|mi|mis|der|die|das|meine?|ich|und|je|les|est|que|qu'est|wie|ist|por|para)\b/u;

/** One message per branch: classifying these at import compiles every pattern before the first request. */
export const WARM_UP_MESSAGES: readonly string[] = [
  'hi',
  "hey, how's it going?",
  "what's 15% of 80",
  "what's my wife's name? I always forget",
  'which gym do I go to',
  "remember that I'm allergic to nuts",
  'my cat is called Biscuit',
  "I'm vegetarian",
  'do I have any meetings tomorrow',
  "what's my sister's birthday and can you suggest a gift?",
  'why do I keep procrastinating',
  'wie heißt meine Schwester',
];
