"""The words and phrases that ``tone.assess`` looks for, per language and per kind of signal.

Hand-curated and small on purpose: every entry is something a member of staff would agree is a sign of
the tone it stands for, and each one that fires is shown to staff by name. (Why not VADER's lexicon: see
``tone.py``.)

How an entry is written (``tone.py`` compiles it):

* it is matched against the text folded to lower case without accents (``déçu`` and ``decu`` are the
  same), as whole words; write entries with or without accents, they are folded the same way;
* a space matches any run of spaces or hyphens (``1 star`` matches ``1-star``);
* ``*`` at the end of a word matches any ending (``idiot*``: idiot, idiots, idioten, idiota);
* an apostrophe may be missing in the text (``j'en ai marre`` matches ``jen ai marre``);
* ``(a|b)`` is a choice and ``?`` makes the thing before it optional, as in regular expressions; use them
  sparingly, for word order and small variants.

Kinds of signal (the tone each leads to is in ``tone.KINDS``):

``insult``        phrases that name people and carry their own aim: "you are useless", "bunch of idiots",
                  "Bande d'incompétents" (abusive; not when the writer says it of themselves);
``swear_at``      swearing aimed at people: "fuck you", "go to hell" (abusive);
``staff_threat``  threats against staff: "I know where your office is" (abusive);
``swearing``      swearing about things: "this fucking blender" (angry);
``anger``         words of strong anger: furious, unacceptable, fed up (angry; not after a negation);
``chargeback``, ``legal_act``, ``leave``: threats (angry, however politely put; not when negated: "I do not
                  want a chargeback");
``legal``, ``regulator``, ``review``: mentions of a lawyer or court, a regulator, a public review; a threat
                  (angry) only with an ``intent`` near them in the same sentence ("I will contact my lawyer",
                  "mein Anwalt wird sich melden", "je vais saisir le médiateur", "voy a dejar una reseña"),
                  and not when negated ("I am not going to leave a review", "ich werde keine schlechte
                  Bewertung schreiben"); a review said to be good ("a 5 star review") is no threat;
``intent``        what makes a mention a threat: the future, intent, a condition ("or", "sonst", "sinon"),
                  an imperative ("expect"), an action already taken ("I have contacted");
``positive``      words that make a review a good one;
``low_rating``    the lowest rating ("1 star", "1 étoile"), as a customer answers our satisfaction check-in:
                  disappointment (counts one), not a threat;
``repeated``      "third time I write" (counts two);
``demand``        "I demand", "escalate", "j'exige" (counts two);
``ignored``       "nobody answered", "no reply" (counts one);
``upset``         disappointment, frustration, annoyance (counts one each, two at most; not after a
                  negation);
``praise`` and ``fault``: sarcasm, when praise and a fault meet in one sentence ("Great job, third broken
                  kettle") (counts one), unless a ``fixed`` word says it was put right;
``accuse``        names for people, abusive only when aimed ("you thieves", "bunch of clowns", "your company
                  is a scam"; not "thieves stole my parcel", not "the film 'Idiots and Angels'"): an ``aim``
                  word within four words before or three after in the same sentence, or said alone as a
                  form of address ("Morons.", "Imbéciles, ¿no saben leer?");
``unfit``         words such as useless, unfähig, incapables said of people: abusive only when said of
                  "you" (a ``person`` word within four words before or three after: "ihr seid doch alle
                  unfähig", "useless, the lot of you"; not "your useless app");
``negator``       words that cancel an ``anger`` or ``upset`` word in the three words before it.

``ANY`` is added to every language: words customers use whatever language they write in.
"""
from __future__ import annotations

ANY: dict[str, tuple[str, ...]] = {
    "swear_at": ("fuck (you|off)", "f\\*+ (you|off)", "stfu"),
    "swearing": ("wtf", "fucking", "f\\*+ing"),
    "chargeback": ("chargeback*", "charge back*"),
    "review": ("trustpilot", "yelp", "tripadvisor", "(google|amazon|facebook|ebay|trusted shops) (reviews?|bewertung*|avis|resenas?|rezension*)"),
    "low_rating": ("(1|0) (stars?|sterne?|etoiles?|estrellas?)",),
}

LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "insult": (
            "(you('re| are)|your (company|shop|store|business|firm|outfit|website|site|lot)( is|'s)) ((just|nothing but|such|a|an|total|complete|absolute|fucking|bunch of) ){0,3}(scam|fraud|rip ?off|con|crooks|scammers|thieves)s?",
            "pathetic (liars|clowns|thieves|amateurs|people)", "(you|bunch of|pack of|listen,? you) clowns",
            "(hire|employ) (only )?monkeys", "are you (people |guys |all )?(stupid|dumb|thick|blind|deaf)",
            "you (people |guys |lot )?are (all )?(completely |totally |so |just )?(stupid|useless|incompetent|pathetic)",
            "you('re| are)? (all )?(completely |totally |so |just )?(stupid|useless|incompetent|pathetic)",
            "(useless|incompetent|stupid|pathetic) (bunch|lot|people|idiots|morons|clowns|fools)",
            "bunch of (useless |incompetent |stupid )?(idiots|morons|clowns|fools|amateurs|incompetents|liars)",
            "(stupid|silly|ignorant|lazy|rude|old|fat) (cow|bitch|cunt|pig)", "cunt",
        ),
        "accuse": ("scammers?", "crooks", "thieves", "liars", "cheats", "frauds", "con artists", "clowns", "amateurs",
                   "idiots?", "morons?", "imbeciles?", "cretins?", "muppets?", "dumbass*", "dumb ass*",
                   "halfwits?", "nitwits?", "numpt(y|ies)", "jerks", "assholes?", "arseholes?", "bastards?",
                   "dickheads?", "scumbags?", "brain dead", "braindead", "losers"),
        "aim": ("you", "your", "you're", "youre", "u", "ur", "yourselves", "bunch", "pack", "lot", "all",
                # staff, named in the third person: "your agent is an idiot", "he's a moron"
                "he's", "she's", "he is", "she is", "he was", "she was", "support", "agent", "agents", "staff",
                "manager", "employee", "employees", "rep", "boss", "colleague", "colleagues"),
        "unfit": ("useless", "incompetent", "clueless", "stupid", "pathetic", "brainless", "dumb", "thick",
                  "a joke", "a disgrace"),
        "person": ("you", "you're", "youre", "u", "ur", "yourselves", "bunch", "pack", "lot", "people", "guys"),
        "swear_at": (
            "go to hell", "go (fuck|screw) yourselves?", "screw you", "piss off", "sod off", "bugger off",
            "shut up", "damn you", "to hell with you",
        ),
        "staff_threat": (
            "i know where (you|he|she) (live|lives|work|works)", "i know where your (office|shop|store|staff|boss) (is|are)",
            "watch your back", "you('ll| will) (regret|pay for) (this|it)", "you('ll| will) be sorry",
            "i('ll| will) (find|hurt|get) you", "not someone to mess with", "come down there (myself|and)",
        ),
        "swearing": ("shit*", "goddamn*", "bullshit", "f\\*+ing"),
        "anger": (
            "angry", "furious", "livid", "outraged", "outrageous", "unacceptable", "disgraceful", "disgrace",
            "ridiculous", "appalling", "scandalous", "fed up", "sick and tired",
            "had enough", "this is a joke", "thank you for nothing", "thanks for nothing",
            "worst (service|company|shop|customer service|experience)( ever)?",
            "fix it now", "how dare you", "enough is enough",
            "(are|r) you (kidding|joking|serious|taking the piss)", "you (must|have got to|gotta) be (kidding|joking)",
            "(taking|take) the piss", "(this|it|that) is (absolutely |just |simply |frankly )?unbelievable",
            "(you('re| are)|are you) (having a laugh|mocking me|laughing at me)",
        ),
        "chargeback": (
            "reverse the (payment|charge|transaction)", "dispute (the|this) (charge|payment|transaction)",
            "(open|file|raise) a (dispute|claim) with (my bank|paypal|my card)", "open a dispute",
            "(credit card|paypal|bank) dispute", "reclaim the money from my bank",
            "(my|the) credit card (company|provider|issuer)",
        ),
        "legal_act": (
            "legal (action|steps|proceedings)", "small claims", "sue (you|them|your company)", "suing",
            "see you in court", "take (you|this|it|the matter) to court", "court action", "letter before action",
        ),
        "legal": ("lawyer*", "attorney*", "solicitor*", "(to|in) court", "legal (advice|team|counsel)"),
        "regulator": (
            "ombudsman", "citizens advice", "trading standards", "consumer (protection|rights|association|council)",
            "better business bureau", "bbb", "ofcom", "ofgem", "ftc", "report you",
            "reporting you",
        ),
        "review": (
            "(1|0|one|zero|2|two) stars? (review|rating)s?", "(bad|negative|terrible|honest|scathing) (review|rating)s?",
            "(a|an|my) review", "reviews? (on|about|of)", "(leave|leaving|write|writing|post|posting|put|putting|"
            "give|giving)* (a |an |my |you a )?(\\w+ )?(review|rating)", "social media",
            "(on|to) (google|amazon|facebook|twitter|instagram|tiktok|reddit|x)",
            "tell(ing)? (everyone|everybody|all my friends)", "warn(ing)? (everyone|everybody|others|other people)",
        ),
        "low_rating": ("(one|zero) stars?",),
        "positive": ("good", "great", "positive", "glowing", "nice", "5", "five", "4", "four", "excellent", "fair"),
        "intent": (
            "i('ll| will| shall)", "we('ll| will| shall)", "will be", "(going|about|ready|prepared) to", "gonna",
            "won't", "will not", "(would|will) have to", "plan to", "intend to", "(considering|thinking about|looking into)",
            "(i|we)('ve| have) (already )?(contacted|spoken to|consulted|instructed|involved|informed|asked|called|written to|reported)",
            "(hear|be hearing) from", "be in touch", "expect", "(or|otherwise|else)", "next step", "no choice but",
            "see you", "report(ing)?", "i (call|contact|go to|take|get)",
        ),
        "leave": (
            "never (order|buy|shop)(ing)? (from|with|here) (you )?again", "never again",
            "(i'm|i am|i'll|i will|going to) (cancel|close)(ling|ing)? my (account|subscription|membership)",
            "(take|taking) my (business|money) elsewhere", "lost a customer", "last time i (order|buy|shop)",
        ),
        "demand": ("(i|we) demand", "escalat*", "i insist"),
        "repeated": (
            "(third|fourth|fifth|sixth|3rd|4th|5th|6th|tenth) time", "(three|four|five|six) times now",
            "(yet )?again and again", "how many times",
        ),
        "ignored": (
            "(nobody|no one|no-one|noone) (has |have )?(ever )?(answered|replied|responded|got back|gotten back|answers|replies|responds|called)",
            "still waiting (for|on) (a|an|your|any) (reply|answer|response)",
            "no (reply|replies|response|answer) (to|from|yet|so far|at all)", "(got|get|had|received|getting) no (reply|replies|response|answer)", "(didn't|did not|never) (hear|heard) back", "never (got|received) a (reply|response|answer)",
            "(still )?(no|not a) word from you", "(zero|0) (answers|replies|responses)", "ignor(ed|ing) (me|my)",
        ),
        "upset": (
            "disappoint*", "frustrat*", "annoy*", "unhappy", "not (at all )?happy", "not impressed", "not satisfied",
            "dissatisfied", "upset", "sad", "tired of", "a mess", "expected better", "let down", "not good enough",
            "fed up with waiting", "waste of (time|money)", "(a|such a|what a) shame", "not what i (hoped|paid|asked) for",
            "dis+ap+oint*", "dissapoint*", "gutted", "meh",
        ),
        "praise": (
            "great job", "good job", "well done", "nice work", "brilliant", "thanks a lot for", "thanks so much for",
            "made my day", "wow,? thanks",
        ),
        "fault": (
            "broken", "broke", "empty", "third", "fourth", "wrong", "missing", "damaged",
        ),
        "fixed": ("replac*", "fix*", "repair*", "sorted", "solved", "refund*", "exchang*"),
        "negator": ("not", "n't", "never", "no", "nor", "without"),
    },
    "de": {
        "insult": (
            "(ihr seid|sie sind|seid ihr|sind sie|(euer|ihr) (laden|verein|shop) ist|(eure|ihre) firma ist) ((doch|alle|nur|ein|eine|einfach|total|reiner|reine|purer|pure|der|die|reinste|reinster) ){0,3}(betrug|abzocke|abzocker|betruger|verbrecher|gauner)*",
            "affen ein*", "(dumme|blode|blöde|alte) (kuh|sau|ziege)",
            "seid ihr (alle )?(zu |so |total |komplett )?(blod|blöd|dumm|bescheuert|behindert)",
            "(ihr|sie) (seid|sind) (alle )?(zu |so |total |komplett )?(blod|blöd|dumm|bescheuert|unfahig|unfähig)",
            "(unfahige|unfähige|inkompetente|dumme|blode|blöde) (idioten|deppen|trottel|vollidioten|penner|versager)",
            "haufen (von )?(idioten|unfahiger|unfähiger|vollidioten|versagern|deppen|lugnern|lügnern)",
        ),
        "accuse": ("clowns", "lugner*", "lügner*", "betruger*", "betrüger*", "gauner*", "diebe*", "amateure",
                   "idiot(en)?", "vollidiot(en)?", "depp(en)?", "trottel", "vollpfosten", "arschloch", "arschlocher",
                   "arschlöcher", "penner", "versager*", "abzocker*", "dummkopf", "dummkopfe", "dummköpfe",
                   "hirnto*", "hohlkopf*", "nichtskonner*", "nichtskönner*", "verbrecher*"),
        "aim": ("ihr", "euch", "euer", "eure", "euren", "eurem", "sie", "ihre", "ihrem", "ihren", "alle", "haufen",
                "bande", "seid", "sind",
                "er ist", "sie ist", "er war", "sie war", "support", "mitarbeiter", "mitarbeiterin", "chef", "chefin",
                "kundendienst", "kundenservice", "hotline", "kollege", "kollegin"),
        "unfit": ("unfahig*", "unfähig*", "inkompetent*", "dumm", "blod", "blöd", "bescheuert", "behindert",
                  "minderbemittelt*", "ahnungslos*", "nutzlos*"),
        "person": ("ihr", "euch", "sie", "seid", "haufen", "bande", "verein", "leute"),
        "swear_at": (
            "leck(t)? mich", "verpiss dich", "verpisst euch", "(fahrt|fahren sie|fahr) (doch )?(alle )?zur holle",
            "geht sterben", "halt die (fresse|klappe)", "haltet die (fresse|klappe)", "zum teufel mit euch",
        ),
        "staff_threat": (
            "ich wei(ß|ss),? wo (ihr|sie|er) (wohn*|arbeite*)", "ich wei(ß|ss),? wo (euer|ihr|ihre) (buro|büro|laden|filiale|firma)",
            "(sie|ihr) werde?n? (das|es) bereuen", "ihr werdet (das|es) bereuen", "passen sie (bloß|bloss|blos) auf",
            "mit mir legt man sich nicht an",
        ),
        "swearing": ("schei(ß|ss)*", "verdammt*", "drecks*"),
        "anger": (
            "wutend", "wütend", "stinksauer", "zornig", "emport", "empört", "frechheit", "unverschamt*",
            "unverschämt*", "inakzeptabel", "skandal*", "lacherlich", "lächerlich", "verarsch*",
            "(wollen|wollt) (sie|ihr) mich (veralbern|verkackeiern|auf den arm nehmen)", "sind sie noch ganz bei trost",
            "nase voll", "mir reicht(s|'s)?", "reicht(s|'s)? mir", "es reicht", "jetzt reicht(s|'s)?", "ein witz", "danke fur nichts",
            "danke für nichts", "(schlechteste[rns]?|mieseste[rns]?) (service|firma|laden|kundenservice)",
        ),
        "chargeback": (
            "ruckbuchung*", "rückbuchung*", "zuruck(zu)?buch*", "zurück(zu)?buch*",
            "widersp* (der|die|einer) lastschrift", "lastschrift (zuruck|zurück|widerruf*)",
            "(zahlung|abbuchung) (zuruck|zurück)(holen|fordern)", "meine bank (einschalten|informieren)",
        ),
        "legal_act": (
            "vor gericht", "gerichtlich* (vorgehen|geltend|klaren|klären|durchsetzen)", "verklag*", "klage (einreichen|erheben)",
            "rechtliche* schritte*", "mahnverfahren", "(straf)?anzeige (erstatten|gegen)",
        ),
        "legal": ("anwalt*", "anwält*", "rechtsanwalt*", "gericht", "gerichtlich*"),
        "regulator": (
            "verbraucherzentrale", "bundesnetzagentur", "schlichtungsstelle", "verbraucherschutz*", "bafin",
            "stiftung warentest", "ombudsmann",
        ),
        "review": (
            "(1|ein|einen|null|0) stern(e)? bewertung*", "bewertung*", "rezension*", "erfahrungsbericht*",
            "soziale(n)? medien", "(auf|bei|in) (google|amazon|facebook|twitter|instagram|tiktok|ebay)",
            "allen (erzahlen|erzählen)", "erzahle allen", "erzähle allen", "(alle|andere) warnen", "warne alle",
        ),
        "low_rating": ("(ein|einen|null) stern(e)?",),
        "positive": ("gute", "guten", "positive", "positiven", "tolle", "5", "funf", "fünf", "4", "vier", "beste"),
        "intent": (
            "werde", "werden", "wird", "wirst", "werdet", "wurde", "würde", "(sonst|andernfalls|ansonsten|anderenfalls)",
            "ich (gehe|schalte|wende|melde|reiche|ziehe|hole|nehme|kontaktiere|informiere|schreibe|rufe)",
            "(gehe|schalte|wende|melde|reiche|ziehe|hole|nehme|kontaktiere|informiere|schreibe) ich",
            "(habe|haben) (bereits |schon )?(\\w+ )?(eingeschaltet|kontaktiert|informiert|beauftragt|eingereicht|eingeleitet|eingeschalten|eingeschaltet|eingeschrieben)",
            "behalte mir", "sehe mich gezwungen", "bleibt mir nichts", "(muss|musste) ich", "nachster schritt",
            "nächster schritt", "dafur gibt", "dafür gibt", "gibt es dafur", "von mir (gibt|gibts|bekommen|bekommt|kriegt|kriegen)",
            "(rechnen|rechnet) (sie|ihr) mit", "horen von", "hören von",
        ),
        "leave": (
            "nie wieder", "nie mehr", "nimmer wieder", "ich kundige", "ich kündige", "kunde gewesen",
            "das letzte mal,? dass ich", "(kaufe|bestelle) (nie|nicht mehr)",
        ),
        "demand": ("ich (verlange|fordere)", "eskalier*"),
        "repeated": (
            "zum (dritten|vierten|funften|fünften|x-ten|zehnten) mal", "(dritte|vierte|funfte|fünfte)s? mal",
            "(drei|vier|funf|fünf)mal geschrieben", "wie oft (noch|denn)",
        ),
        "ignored": (
            "niemand (hat )?(mir )?(geantwortet|antwortet|reagiert|zuruckgerufen)",
            "hat (mir )?niemand (geantwortet|reagiert)", "keiner antwortet",
            "(bekomme|bekommen|erhalte|erhalten|noch|immer noch|bis jetzt|bisher) keine (antwort|reaktion|ruckmeldung|rückmeldung)",
            "keine (antwort|reaktion|ruckmeldung|rückmeldung) (bekommen|erhalten|auf|von)",
            "nie geantwortet", "ignoriert", "(null|0) antworten",
            "(warte|warten|wartet) (\\w+ ){0,5}auf (eine |ihre |eure |die |irgendeine )?(antwort|ruckmeldung|rückmeldung|reaktion)",
        ),
        "upset": (
            "enttausch*", "enttäusch*", "frustr*", "genervt", "nervt", "nervig", "argerlich", "ärgerlich",
            "verargert", "verärgert", "unzufrieden", "nicht zufrieden", "traurig", "schade",
            "ein (einziges )?chaos", "mehr erwartet", "nicht gerade toll", "nicht (so )?toll", "zumutung", "nervt", "na toll",
        ),
        "praise": (
            "super gemacht", "super arbeit", "toll gemacht", "gut gemacht", "vielen dank auch",
            "danke auch", "tag versu(ß|ss)t", "tag versüßt", "bravo",
        ),
        "fault": (
            "kaputt*", "leer*", "dritte*", "vierte*", "falsch*", "fehlt", "beschadigt*",
        ),
        "fixed": ("ersetz*", "repar*", "getausch*", "umgetausch*", "gelost", "gelöst", "erstatt*", "behoben"),
        "negator": ("nicht", "kein", "keine", "keinen", "nie", "niemals", "ohne"),
    },
    "fr": {
        "insult": (
            "espece d'(idiot|imbecile|abruti|incapable)s?", "imbeciles", "cretins?", "abrutis?", "connards?", "connasses?",
            "conne", "connes", "guignols?", "minables",
            "bande (de |d')(incompetent|incapable|nul|cretin|abruti|clown|escroc|menteur|voleur|idiot|imbecile|guignol|con|branleur|bras casse)s?",
            "bande (de |d')\\w+[sx]",
            "(vous etes|votre (boite|societe|entreprise|site|magasin|maison) est) ((vraiment|tous|des|une|un|qu'une|que des|rien que|de la|de|la|pure|totale|belle) ){0,3}(arnaque|escroquerie|escrocs|voleurs|arnaqueurs)",
            "vous etes (tous )?(des )?(idiots|nuls|cons|debiles|incompetents|incapables|abrutis|minables)",
            "pois chiche (dans|a la place de) (la tete|le cerveau)", "(recrutez|embauchez) des singes",
            "branleurs?", "encule*", "salauds?",
        ),
        "accuse": ("escrocs", "voleurs", "menteurs", "arnaqueurs", "guignol", "clowns", "amateurs", "idiots",
                   "charlots?", "nuls", "incapables", "incompetents"),
        "aim": ("vous", "tous", "toutes", "bande", "sales", "votre", "vos",
                "il est", "elle est", "sav", "conseiller", "conseillere", "vendeur", "vendeuse", "employe", "employes",
                "patron", "equipe"),
        "unfit": ("incompetents?", "incapables?", "nuls", "cons", "debiles", "stupides", "bons a rien"),
        "person": ("vous", "bande", "etes", "tous", "toutes"),
        "swear_at": (
            "allez (vous|tous vous) faire (foutre|voir)", "va te faire (foutre|voir)", "foutez(-| )moi la paix",
            "allez (tous )?au diable", "fermez-la", "ta gueule", "vos gueules",
        ),
        "staff_threat": (
            "je sais ou (sont|est|se trouvent?) (vos|votre) (bureaux|bureau|locaux|magasin|boutique|siege)", "je sais ou vous (habitez|travaillez)", "vous (allez|aller) le regretter", "vous le regretterez",
            "faites attention a vous", "(je vais|j'irai) venir (moi-meme|en personne)",
        ),
        "swearing": ("putain", "merde*", "bordel", "foutu*", "chier"),
        "anger": (
            "en colere", "furieu(x|se)", "hors de moi", "inadmissible", "inacceptable", "scandaleu(x|se)",
            "honteu(x|se)", "c'est une honte", "ras le bol", "j'en ai marre", "marre", "merci pour rien",
            "c'est une blague", "c'est une plaisanterie", "ridicule", "indigne", "trop c'est trop",
            "pire (service|entreprise|magasin|boutique|sav)",
            "(vous )?(vous )?(foutez|fichez|moquez) (de|du) (moi|nous|ma gueule|la gueule|vos clients|monde)",
            "(c'est|vous) (vous )?foutre de", "se foutre de", "vous (me )?prenez pour (un|une) (con|conne|idiot|idiote|imbecile|pigeon)",
        ),
        "chargeback": (
            "retrofacturation", "retro-facturation", "opposition bancaire", "(faire|fais|ferai|faire une) opposition",
            "opposition (sur|au|a) (le |la )?(paiement|prelevement|debit|carte)",
            "contest* (le |la |ce )?(paiement|prelevement|debit|transaction)", "chargeback",
        ),
        "legal_act": (
            "en justice", "porter plainte", "portera plainte", "mise en demeure", "poursuites (judiciaires)?",
            "action en justice", "je (vous )?poursui*",
        ),
        "legal": ("(mon|un|des|notre|votre|l') avocat*", "avocats", "tribunal*", "huissier", "juge"),
        "regulator": (
            "ufc que choisir", "ufc", "que choisir", "dgccrf", "mediateur", "signalconso", "60 millions", "association de consommateurs",
        ),
        "review": (
            "(1|une|0|zero) etoiles? avis", "avis (a )?(1|une|0|zero) etoiles?", "(mauvais|pire) avis", "avis negatif*",
            "avis (sur|chez) \\w+", "(laiss|publi|post|mett|ecri|donn|rédig|redig)* (un |des |mon |une )?(\\w+ )?(avis|commentaire|note)",
            "reseaux sociaux", "(sur|chez) (google|amazon|facebook|twitter|instagram|tiktok)",
            "(raconter|dire)* a tout le monde", "previendrai tout le monde",
        ),
        "low_rating": ("(une|zero) etoiles?",),
        "positive": ("bon", "bons", "excellent", "positif", "positifs", "5", "cinq", "4", "quatre", "super"),
        "intent": (
            "je vais", "nous allons", "on va", "(vais|allons|va) (\\w+ )?(saisir|contacter|porter|faire|laisser|publier|mettre|ecrire|signaler|prendre|passer|voir|consulter)",
            "j'?irai", "(saisirai|contacterai|porterai|ferai|laisserai|publierai|mettrai|ecrirai|signalerai|prendrai|consulterai|verrai|passerai|transmettrai)",
            "(sinon|a defaut|faute de|ou alors)", "hesiterai", "j'ai (deja )?(saisi|contacte|pris|consulte|ecrit|signale|porte|transmis)",
            "(me|nous) (verrai|verrons|vois) (contraint|oblige)", "je me reserve", "(va|vont) vous", "(aurez|entendrez) (affaire|parler)",
            "attendez-vous", "prochaine etape",
        ),
        "leave": (
            "plus jamais", "je resilie", "(je ne|j'ne) (commanderai|acheterai|reviendrai) plus",
            "perdu un client", "derniere fois que (je|j') (commande|achete)",
        ),
        "demand": ("j'exige", "nous exigeons"),
        "repeated": (
            "(troisieme|quatrieme|cinquieme|3e|4e|5e|enieme|nieme) fois", "combien de fois",
        ),
        "ignored": (
            "personne (ne )?(m'a|n'a|ne m'a|ne) (jamais )?(repondu|repond|rappele)", "personne ne (me )?repond",
            "(aucune|pas de|sans|zero|0) (reponse|nouvelles|retour)s?", "j'attends (toujours |encore )?(une |votre )?reponse", "jamais (eu de )?repon(du|se)", "ignore(z|r)? (mes|moi)",
        ),
        "upset": (
            "decu*", "decev*", "frustr*", "agace*", "agacant*", "enerv*", "mecontent*", "pas (du tout )?satisfait*",
            "insatisfait*", "triste", "dommage", "bazar", "penible", "m'attendais a mieux",
            "pas terrible", "pas normal", "inquiet*", "bof",
        ),
        "praise": (
            "bravo", "merci beaucoup pour (le|la|les)", "felicitations", "chapeau",
            "illumine ma journee", "super boulot",
        ),
        "fault": (
            "cass*", "vide", "troisieme", "quatrieme", "mauvais*", "manqu*", "abime*", "en panne",
        ),
        "fixed": ("remplac*", "repar*", "regle*", "resolu*", "rembours*", "echang*"),
        "negator": ("pas", "ne", "n'", "jamais", "sans", "ni"),
    },
    "es": {
        "insult": (
            "gilipollas", "capull[oa]s?", "cabron(es)?",
            "(ustedes son|son ustedes|sois|(su|vuestra) (empresa|tienda|web) es) ((unos|una|un|todos|pura|puro|menuda|una autentica|un autentico) ){0,3}(estafa|timo|estafadores|timadores|ladrones)",
            "panda de \\w+", "no tienen cerebro", "contratan monos", "subnormal*", "imbéciles", "inepto*",
            "son (todos )?(unos )?(tontos|idiotas|imbeciles|inutiles|incompetentes|estupidos|ladrones)",
            "(mentiros[oa]s|ladrones|estafadores|payasos|inutiles) (pateticos|asquerosos|de mierda)",
        ),
        "accuse": ("ladrones", "estafadores", "mentirosos", "payasos", "timadores", "sinverguenzas?", "idiotas?",
                   "imbeciles?", "estupid[oa]s?", "tont[oa]s?", "inutiles", "incompetentes", "ineptos"),
        "aim": ("ustedes", "son", "sois", "os", "les", "todos", "panda", "vosotros", "su", "vuestra",
                "fue un", "fue una", "es un", "es una", "soporte", "agente", "empleado", "empleada", "senora", "senor",
                "jefe", "telefono", "atencion"),
        "unfit": ("inutiles", "incompetentes", "idiotas", "tontos", "estupidos", "ineptos", "imbeciles", "negados"),
        "person": ("ustedes", "son", "sois", "os", "vosotros", "panda"),
        "swear_at": (
            "(vete|vayanse|váyanse|idos|iros|vayase|váyase) a la mierda", "que (te|os|les) den",
            "(metanse|metase|metete)* .{0,30}por donde", "por donde (les|te|os|le) quepa", "a tomar por culo",
            "callate", "cállense", "callense",
        ),
        "staff_threat": (
            "se donde (esta|estan) (su|sus|vuestra|vuestras) (oficina|oficinas|tienda|sede)", "se donde (viven|vive|trabajan|trabaja)", "(se van|os vais|te vas|se va) a arrepentir",
            "conmigo no se juega", "tengan cuidado conmigo",
        ),
        "swearing": ("puta", "puto", "joder", "mierda", "hostia*", "cojones", "coño"),
        "anger": (
            "furios[oa]", "enfadad[oa]", "indignad*", "cabread[oa]", "inaceptable", "inadmisible",
            "(es|son|esto es|que) una verg(u|ü)enza", "vergonzoso", "escandal*", "hart[oa]", "art[oa]", "hasta las narices", "hasta el gorro", "gracias por nada",
            "(es|esto es) una broma", "ridicul[oa]", "peor servicio", "ya esta bien", "basta ya", "peor (empresa|tienda) (del mundo|que)",
            "(me|nos) (estan|estais|están) tomando el pelo", "(me|nos) toman el pelo", "(se|os) (estan|están) riendo de (mi|nosotros)",
            "(se|os) (rien|burlan) de (mi|nosotros)",
        ),
        "chargeback": (
            "contracargo*", "devolver el recibo", "devuelv* el (cargo|recibo|pago)", "anular el (cargo|pago)",
            "reclam* al banco", "(disputa|reclamacion) (con|en|al) (el |mi )?banco", "chargeback",
        ),
        "legal_act": ("demandar*", "poner una demanda", "via judicial", "acciones legales", "medidas legales"),
        "legal": ("abogad*", "tribunal*", "juzgado*", "denunci*"),
        "regulator": (
            "ocu", "facua", "oficina (municipal )?de consumo", "(en|a|ante) consumo", "hoja de reclamaciones",
            "defensor del (cliente|consumidor)",
        ),
        "review": (
            "(mala|peor) (resena|opinion|valoracion)", "(resena|opinion|valoracion) negativa", "resenas?",
            "valoraci(on|ones)", "(dej|public|pon|escrib|d)* (una |mi |la )?(\\w+ )?opinion",
            "redes sociales", "en (google|amazon|facebook|twitter|instagram|tiktok|internet)",
            "(contar|contarlo|publicar|publicarlo)* en (facebook|twitter|instagram|internet)",
            "contar* a todo el mundo",
        ),
        "low_rating": ("(una|cero) estrellas?",),
        "positive": ("buena", "buenas", "positiva", "excelente", "5", "cinco", "4", "cuatro", "gran"),
        "intent": (
            "voy a", "vamos a", "(hablare|pondre|denunciare|demandare|acudire|ire|iremos|contactare|llamare|dejare|publicare|"
            "escribire|reclamare|iniciare|tomare|hare|presentare|llevare|recurrire|avisare|contare|daré|dare)",
            "(lo|la|los|las|me) (llevo|voy)", "acudo", "(de lo contrario|o si no|si no|sino)", "no dudare",
            "(he|hemos) (ya )?(contactado|hablado|consultado|puesto|presentado|acudido|escrito)", "me reservo",
            "me vere obligad", "(se|os) van a enterar", "(espere|esperen) (una|mi)",
        ),
        "leave": (
            "nunca mas", "me doy de baja", "no (les |os )?vuelvo a comprar", "no volvere a (comprar|pedir)",
            "perdido un cliente", "ultima vez que (compro|pido)",
        ),
        "demand": ("exijo", "exigimos"),
        "repeated": (
            "(tercera|cuarta|quinta|enesima) vez", "(tres|cuatro|cinco) veces (ya|escribiendo)", "cuantas veces",
        ),
        "ignored": (
            "nadie (me )?(ha )?(contestado|respondido|contesta|responde|llamado)", "(ninguna|sin|ni una) respuesta",
            "(cero|0) respuestas",
            "no (he )?(recibi|recibido) (ninguna )?respuesta", "me ignoran", "ignorad[oa]",
            "(sigo|seguimos|sigue) esperando (una |su |vuestra )?respuesta",
        ),
        "upset": (
            "decepcion*", "frustra*", "molest[oa]s?", "cansando", "cansad[oa]", "no estoy content[oa]",
            "nada satisfech[oa]", "insatisfech*", "triste", "(que|qué|una) pena",
            "no esta nada bien", "esperaba mas", "un caos", "disgustad[oa]", "(que|qué) decepcion",
        ),
        "praise": (
            "genial", "muchas gracias por (la|el|los|las)", "enhorabuena", "me alegro el dia", "bravo",
            "muy bien hecho", "buen trabajo",
        ),
        "fault": (
            "rot[oa]s?", "vaci[oa]", "tercer*", "cuart*", "equivocad*", "falta", "dañad*",
        ),
        "fixed": ("reemplaz*", "cambi*", "arregl*", "repar*", "solucion*", "reembols*", "devolv*"),
        "negator": ("no", "ni", "nunca", "sin", "tampoco"),
    },
}
