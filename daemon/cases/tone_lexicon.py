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

``insult``        names aimed at people: idiots, clowns, liars (abusive; not when the writer says it of
                  themselves: "I felt like an idiot");
``swear_at``      swearing aimed at people: "fuck you", "go to hell" (abusive);
``staff_threat``  threats against staff: "I know where your office is" (abusive);
``swearing``      swearing about things: "this fucking blender" (angry);
``anger``         words of strong anger: furious, unacceptable, fed up (angry; not after a negation);
``chargeback``, ``legal``, ``regulator``, ``review``, ``leave``: threats (angry, however politely put);
``repeated``      "third time I write" (counts two);
``demand``        "I demand", "escalate", "j'exige" (counts two);
``ignored``       "nobody answered", "no reply" (counts one);
``upset``         disappointment, frustration, annoyance (counts one each, two at most; not after a
                  negation);
``praise`` and ``fault``: sarcasm, when praise and a fault meet in one sentence ("Great job, third broken
                  kettle") (counts one), unless a ``fixed`` word says it was put right;
``accuse``        words that are names for people only when aimed at them ("you thieves", "bunch of
                  clowns"; not "thieves stole my parcel"): abusive when an ``aim`` word is within three
                  words;
``negator``       words that cancel an ``anger`` or ``upset`` word in the three words before it.

``ANY`` is added to every language: words customers use whatever language they write in.
"""
from __future__ import annotations

ANY: dict[str, tuple[str, ...]] = {
    "swear_at": ("fuck (you|off)", "f\\*+ (you|off)", "stfu"),
    "swearing": ("wtf", "fucking", "f\\*+ing"),
    "chargeback": ("chargeback*", "charge back*"),
    "review": ("(1|0|one|zero) stars?",),
}

LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "insult": (
            "idiots?", "morons?", "imbeciles?", "cretins?", "muppets?", "dumbass*", "dumb ass*",
            "halfwits?", "nitwits?", "numpt(y|ies)", "jerks", "assholes?", "arseholes?", "bastards?", "dickheads?",
            "scumbags?", "brain dead", "braindead", "losers", "pathetic (liars|clowns|thieves|amateurs|people)", "(you|bunch of|pack of|listen,? you) clowns",
            "(hire|employ) (only )?monkeys", "are you (people |guys |all )?(stupid|dumb|thick|blind|deaf)",
            "you (people |guys |lot )?are (all )?(completely |totally |so |just )?(stupid|useless|incompetent|pathetic)",
            "you('re| are)? (all )?(completely |totally |so |just )?(stupid|useless|incompetent|pathetic)",
            "(useless|incompetent|stupid|pathetic) (bunch|lot|people|idiots|morons|clowns|fools)",
            "bunch of (useless |incompetent |stupid )?(idiots|morons|clowns|fools|amateurs|incompetents|liars)",
            "(stupid|silly|ignorant|lazy|rude|old|fat) (cow|bitch|cunt|pig)", "cunt",
        ),
        "accuse": ("scammers?", "crooks", "thieves", "liars", "cheats", "frauds", "con artists", "clowns", "amateurs"),
        "aim": ("you", "your", "you're", "youre", "u", "ur", "yourselves", "bunch", "pack", "lot", "all"),
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
        ),
        "chargeback": (
            "reverse the (payment|charge|transaction)", "dispute (the|this) (charge|payment|transaction)",
            "(open|file|raise) a (dispute|claim) with (my bank|paypal|my card)", "open a dispute",
            "(credit card|paypal|bank) dispute", "reclaim the money from my bank",
            "(my|the) credit card (company|provider|issuer)",
        ),
        "legal": (
            "lawyer*", "attorney*", "solicitor*", "legal action", "small claims", "(to|in) court", "sue (you|them)",
            "suing",
        ),
        "regulator": (
            "ombudsman", "citizens advice", "trading standards", "consumer (protection|rights|association|council)",
            "better business bureau", "bbb", "ofcom", "ofgem", "ftc", "report you",
            "reporting you",
        ),
        "review": (
            "(bad|negative|terrible) reviews?", "tell(ing)? (everyone|everybody|all my friends)",
            "warn(ing)? (everyone|everybody|others|other people)", "social media",
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
            "no (reply|replies|response|answer) (to|from|yet|so far|at all)", "(got|get|had|received|getting) no (reply|replies|response|answer)", "(didn't|did not|never) (hear|heard) back", "never (got|received) a (reply|response|answer)",
            "(still )?(no|not a) word from you", "(zero|0) (answers|replies|responses)", "ignor(ed|ing) (me|my)",
        ),
        "upset": (
            "disappoint*", "frustrat*", "annoy*", "unhappy", "not (at all )?happy", "not impressed", "not satisfied",
            "dissatisfied", "upset", "sad", "tired of", "a mess", "expected better", "let down", "not good enough",
            "fed up with waiting", "waste of (time|money)",
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
            "idiot(en)?", "vollidiot(en)?", "depp(en)?", "trottel", "vollpfosten", "arschloch", "arschlocher", "arschlöcher",
            "penner", "versager", "abzocker", "dummkopf", "dummkopfe", "dummköpfe",
            "hirnto*", "hohlkopf*", "idioten", "affen ein*", "(dumme|blode|blöde|alte) (kuh|sau|ziege)",
            "seid ihr (alle )?(zu |so |total |komplett )?(blod|blöd|dumm|bescheuert|behindert)",
            "(ihr|sie) (seid|sind) (alle )?(zu |so |total |komplett )?(blod|blöd|dumm|bescheuert|unfahig|unfähig)",
            "(unfahige|unfähige|inkompetente|dumme|blode|blöde) (idioten|deppen|trottel|vollidioten|penner|versager)",
            "haufen (von )?(idioten|unfahiger|unfähiger|vollidioten|versagern|deppen|lugnern|lügnern)",
        ),
        "accuse": ("clowns", "lugner", "lügner", "betruger", "betrüger", "gauner", "diebe", "amateure"),
        "aim": ("ihr", "euch", "euer", "eure", "sie", "alle", "haufen", "bande", "seid", "sind"),
        "swear_at": (
            "leck(t)? mich", "verpiss dich", "verpisst euch", "(fahrt|fahren sie|fahr) (doch )?(alle )?zur holle",
            "geht sterben", "halt die (fresse|klappe)", "haltet die (fresse|klappe)", "zum teufel mit euch",
        ),
        "staff_threat": (
            "ich wei(ß|ss),? wo (ihr|sie|er) (wohn\\w*|arbeite\\w*)", "ich wei(ß|ss),? wo (euer|ihr|ihre) (buro|büro|laden|filiale|firma)",
            "(sie|ihr) werde?n? (das|es) bereuen", "ihr werdet (das|es) bereuen", "passen sie (bloß|bloss|blos) auf",
            "mit mir legt man sich nicht an",
        ),
        "swearing": ("schei(ß|ss)*", "verdammt*", "drecks*"),
        "anger": (
            "wutend", "wütend", "stinksauer", "zornig", "emport", "empört", "frechheit", "unverschamt",
            "unverschämt", "inakzeptabel", "skandal*", "lacherlich", "lächerlich",
            "nase voll", "mir reicht(s|'s)?", "reicht(s|'s)? mir", "es reicht", "jetzt reicht(s|'s)?", "ein witz", "danke fur nichts",
            "danke für nichts", "(schlechteste[rns]?|mieseste[rns]?) (service|firma|laden|kundenservice)",
        ),
        "chargeback": (
            "ruckbuchung*", "rückbuchung*", "zuruck(zu)?buch*", "zurück(zu)?buch*",
            "widersp\\w* (der|die|einer) lastschrift", "lastschrift (zuruck|zurück|widerruf\\w*)",
            "(zahlung|abbuchung) (zuruck|zurück)(holen|fordern)", "meine bank (einschalten|informieren)",
        ),
        "legal": (
            "anwalt*", "anwält*", "anwalt", "rechtsanwalt*", "vor gericht", "gerichtlich*", "verklag*", "klage einreichen",
            "rechtliche schritte", "mahnverfahren",
        ),
        "regulator": (
            "verbraucherzentrale", "bundesnetzagentur", "schlichtungsstelle", "verbraucherschutz*", "bafin",
            "stiftung warentest", "ombudsmann",
        ),
        "review": (
            "(1|ein|einen|null) stern*", "(schlechte|negative|miese) bewertung*", "allen (erzahlen|erzählen)",
            "erzahle allen", "erzähle allen", "(alle|andere) warnen", "warne alle", "soziale(n)? medien",
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
        ),
        "upset": (
            "enttausch*", "enttäusch*", "frustr*", "genervt", "nervt", "nervig", "argerlich", "ärgerlich",
            "verargert", "verärgert", "unzufrieden", "nicht zufrieden", "traurig", "schade",
            "ein (einziges )?chaos", "mehr erwartet", "nicht gerade toll", "nicht (so )?toll", "zumutung",
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
            "conne", "connes", "guignols?", "minables", "incapables", "incompetents",
            "bande (de |d')(incompetent|incapable|nul|cretin|abruti|clown|escroc|menteur|voleur|idiot|imbecile|guignol|con|branleur|bras casse)s?",
            "vous etes (tous )?(des )?(idiots|nuls|cons|debiles|incompetents|incapables|abrutis|minables)",
            "pois chiche (dans|a la place de) (la tete|le cerveau)", "(recrutez|embauchez) des singes",
            "branleurs?", "encule*", "salauds?",
        ),
        "accuse": ("escrocs", "voleurs", "menteurs", "arnaqueurs", "guignol", "clowns", "amateurs", "idiots"),
        "aim": ("vous", "tous", "toutes", "bande", "sales", "votre", "vos"),
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
        ),
        "chargeback": (
            "retrofacturation", "retro-facturation", "opposition bancaire", "(faire|fais|ferai|faire une) opposition",
            "opposition (sur|au|a) (le |la )?(paiement|prelevement|debit|carte)",
            "contest\\w* (le |la |ce )?(paiement|prelevement|debit|transaction)", "chargeback",
        ),
        "legal": (
            "(mon|un|des|notre|votre) avocat*", "avocats", "tribunal*", "en justice", "porter plainte",
            "mise en demeure", "poursuites", "huissier",
        ),
        "regulator": (
            "ufc que choisir", "ufc", "que choisir", "dgccrf", "mediateur", "signalconso", "60 millions", "association de consommateurs",
        ),
        "review": (
            "(1|une|0|zero) etoiles?", "(mauvais|pire) avis", "avis negatif*", "(raconter|dire)\\w* a tout le monde",
            "reseaux sociaux", "previendrai tout le monde",
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
            "(aucune|pas de|sans|zero|0) (reponse|nouvelles|retour)s?", "jamais (eu de )?repon(du|se)", "ignore(z|r)? (mes|moi)",
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
            "idiotas?", "imbeciles?", "estupid[oa]s?", "tontos", "tonta", "tonto", "gilipollas", "capull[oa]s?",
            "cabron(es)?", "sinverguenzas?", "inutiles", "incompetentes",
            "panda de \\w+", "no tienen cerebro", "contratan monos", "subnormal*", "imbéciles", "inepto*",
            "son (todos )?(unos )?(tontos|idiotas|imbeciles|inutiles|incompetentes|estupidos|ladrones)",
            "(mentiros[oa]s|ladrones|estafadores|payasos|inutiles) (pateticos|asquerosos|de mierda)",
        ),
        "accuse": ("ladrones", "estafadores", "mentirosos", "payasos", "timadores"),
        "aim": ("ustedes", "son", "sois", "os", "les", "todos", "panda", "vosotros"),
        "swear_at": (
            "(vete|vayanse|váyanse|idos|iros|vayase|váyase) a la mierda", "que (te|os|les) den",
            "(metanse|metase|metete)\\w* .{0,30}por donde", "por donde (les|te|os|le) quepa", "a tomar por culo",
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
        ),
        "chargeback": (
            "contracargo*", "devolver el recibo", "devuelv\\w* el (cargo|recibo|pago)", "anular el (cargo|pago)",
            "reclam\\w* al banco", "(disputa|reclamacion) (con|en|al) (el |mi )?banco", "chargeback",
        ),
        "legal": (
            "abogad*", "tribunal*", "juzgado*", "demandar\\w*", "poner una demanda", "denunci*", "via judicial", "acciones legales",
        ),
        "regulator": (
            "ocu", "facua", "oficina (municipal )?de consumo", "(en|a|ante) consumo", "hoja de reclamaciones",
            "defensor del (cliente|consumidor)",
        ),
        "review": (
            "(1|una|0|cero) estrellas?", "(mala|peor) (resena|opinion|valoracion)", "(resena|opinion) negativa",
            "redes sociales", "(contar|contarlo|publicar|publicarlo)\\w* en (facebook|twitter|instagram|internet)",
            "contar\\w* a todo el mundo",
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
        ),
        "upset": (
            "decepcion*", "frustra*", "molest[oa]s?", "cansando", "cansad[oa]", "no estoy content[oa]",
            "nada satisfech[oa]", "insatisfech*", "triste", "(que|qué|una) pena",
            "no esta nada bien", "esperaba mas", "un caos", "disgustad[oa]",
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
