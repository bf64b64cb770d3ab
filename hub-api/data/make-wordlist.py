# How passphrase-words-hu.txt was made (run once by hand; the result is committed).
#   apt-get install hunspell-hu ; pip install wordfreq ; python3 make-wordlist.py
# 1. hunspell-hu: words whose every dictionary entry is a nominative, uninflected noun with
#    Hungarian spelling (no foreign pronunciation), 3-8 letters.
# 2. Ranked by wordfreq's Hungarian frequency (everyday words first).
# 3. Sound-alikes removed: the same after folding accents, ly=j and double consonants, or
#    differing only in the last letter, or one being the other plus one letter.
# 4. A reviewed block list (BLOCK below): pronouns, names, foreign words, slang, offensive,
#    violent, medical, political and religious words.
#    The committed list was then limited to the words a person had reviewed in step 4.
import re, collections, wordfreq, sys
aff = open('/usr/share/hunspell/hu_HU.aff', encoding='utf-8', errors='replace').read().split('\n')
morph = [l[3:] for l in aff if l.startswith('AM ')][1:]
dic = open('/usr/share/hunspell/hu_HU.dic', encoding='utf-8').read().split('\n')[1:]
ms = collections.defaultdict(list)
for line in dic:
    if not line.strip(): continue
    parts = line.split('\t')
    w = parts[0].split('/')[0]
    m = ''
    if len(parts) > 1 and parts[1].strip().isdigit():
        i = int(parts[1].strip()); m = morph[i-1] if 0 < i <= len(morph) else ''
    elif len(parts) > 1: m = parts[1]
    ms[w].append(m)
letters = re.compile(r'^[a-záéíóöőúüű]+$')
def ok_morph(w, m):
    if 'po:noun' not in m: return False
    if re.search(r'\bis:', m) or 'PLUR' in m or 'ph:' in m: return False
    st = re.findall(r'st:(\S+)', m)
    if st and st[0] != w: return False
    return True
nouns = set()
for w, mlist in ms.items():
    if not letters.match(w) or not (3 <= len(w) <= 8): continue
    if all(ok_morph(w, m) for m in mlist): nouns.add(w)
# no y except in digraphs gy ly ny ty; no w x q
def hungarian_spelling(w):
    if re.search(r'[wxq]', w): return False
    if re.search(r'(?<![glnt])y', w): return False
    return True
nouns = {w for w in nouns if hungarian_spelling(w)}
freq = {w: wordfreq.zipf_frequency(w, 'hu') for w in nouns}
ranked = sorted((w for w in nouns if freq[w] > 0), key=lambda w: (-freq[w], w))
BLOCK = set('''
minden aki ami egyik valaki semmi mindenki másik senki melyik bárki micsoda egymás ugyanaz bármi ilyesmi amelyik magára magában magától maga akármi akárki mindaz némelyik olyasmi ugyanez miként eme illető jóformán odahaza hát nappal tavaly másnap
isten úristen kurva fasz halál háború betegség baleset martin frank mark varga molnár kovács miss grand club londoni pápa egyház szovjet politika kormány elnök kapta követő tartó történő működő járó induló szolgáló érkező erőszak bocsánat night lord ausztrál hajdú kicsoda led out erika kádár köcsög rák fodor song barom marha gordon pintér párizsi szűcs levente okozó tünde radnóti picsa átmérőjű here sátán ribanc bunkó punci rabbi dog thai valencia bajor nagykun tokaji pete bíboros püspök biblia áldozat büntetés fegyver bomba börtön terror rablás vádlott maffia bűnöző bűn pokol ördög temető tragédia járvány vírus menekült sérülés műtét elődöntő szenvedő pusztító átok csávó szűz ellenség félelem fájdalom szégyen veszély ijesztő harag horror vereség hiány kockázat válság ellenzék koalíció szenátor államfő alelnök terjedő kezdődő védekező beszélő függő ragyogó kerülő támadó érintő várta számító figyelő csábító teremtő támogató elérhető felelős ultra totál multi center shop stand roll email start stop port punk pop cucc izé kamu pasi meló csaj juhász lakatos takács deák szabó liszt dvd sms cs
pénisz drog tolvaj démon pöcs próféta pestis holttest vámpír gyűlölet fogoly pisztoly rabló néger pornó pofa nigger méreg gyász cigi migráns betörő lövedék puska bolsevik erotika ateista pina prosti daganat magzat autista lőszer szekta tumor zsinat parazita vizelet bombázó iszonyat jezsuita júdás hóhér sértett vakcina fertő mongol diktátor invázió páncélos tripla null moholy primer pub siemens atm cal petit building apjuk anyjuk trade alt mersz kubai maláj litván regina viola veronika boglárka donna sterling stroke piano nova sin coca blikk pilis zsombor palóc tesla pokémon csajszi haver pasas szingli balhé öcsi pali fickó gimi vacsi szitu nagyi tulaj kolléga olvasta lezárt meggyőző befejező emelkedő büntető egyéves nőstény kétség bánat kudarc szörny zombi trauma féreg gyűlölet kegyelem ámen érsek apostol plébános lelkész apáca baptista misszió szentély oltár ima himnusz bazilika plébánia kápolna templom szenátus rezsim cenzúra felkelés alvilág diktátor invázió csapda akna ostrom vész árvíz hurrikán gyanú pánik krízis kényszer tilalom ellentét szolga uralom vallomás fenék kosz pofon éhség zsákmány zsoldos sztrájk panasz tornádó impulzus hippi elvtárs ego frakció kabinet bulvár holding riport centi sátán hadtest daganat mulatság autizmus harcsa többes betöltő celeb ifi roncs egyezség analízis kisbaba hátizsák kitérő díszítő formáció irányzat előírás felfogás belföld mindaz közlöny autonóm objektum kliens momentum értelem docens nyújtó töri végzős futsal kihagyás kereslet megértés oklevél tartozék főoldal import üstökös hüvelyk luc izgató halandó délkelet fitnesz függvény készítő főorvos sugár átmenet pontszám szócikk terminál kisegítő ideg javak esztendő nádor szekció címzett beosztás képlet trió kontroll élelem erkölcs köpeny limit kulcsár denevér
bugyi bűntudat gang főtitkár nehézség pekingi marokkói pascal devon koldus inger függőség klorid messiás elnyomás istenség mutáció őfelsége egylet jelkép kitörés popsi adósság gyalázat dilemma csiszár lefekvés megbízás zűrzavar rektor ráta hasmenés gettó kiesés kimenő kórokozó sámán tömörítő gyes self kivégzés kommandó kálvária légió col szuka nápolyi panama alibi domonkos fater kopó külsős ovis abortusz borzalom sperma morbid múmia marsall köbméter zarándok gatya gin leander bodnár főügyész hasonmás hullámzó koporsó spin tabu viszály óvszer bambi tárnok vonzalom nevező nitrát piarista turul vámos csali feltevés glükóz rezidens robbanó mánia vagina georgina kokó konzul pentagon salsa sakál követség indonéz jeladó jelzálog kihívó közelítő lidérc orgazmus pikk rusnya teológus teória vákuum végtag öntudat esperes hajlam emberke szelvény trigger polyák éhínség élvező ütköző area bermuda fasizmus puccs nyomaték ammónia sikoly hátrány piszok asztma bestia transz szteroid kokain jövet kezes kandúr régmúlt száguldó óvadék hézag fráter metil paktum bibi csukló sejk summa szaki nyomor cikkely hasadék eretnek irtó kehely kelvin mirigy operáció tüzér flip enter felperes opus pisa penész duzzanat elsős gemma kitörő modor részvét tímár anarchia hiszti kitt körözés külügy lantos magánjog sáska vétség zsivány token túlvilág nagyböjt mormon nikotin kuruc káplán trágya tus zárlat fenyves betétes
baloldal célpont bognár lejátszó nyilas hirdető kalmár kamion karma frissítő eltérés hordozó értesítő szamuráj foglaló kérelem norma kérdőív cápa
pina elődöntő köcsög kilátó grófnő operatőr párduc hadtest
görcs kripta kétely legvégső leukémia lépte malária muri szakadár tender utópia vágóhíd bután bántó chef emigráns entitás gerilla gyarmat heroin irgalom milla rítus semelyik önjelölt bandita blokád bróker ezotéria mellék serkentő pitbull préda ügylet drogos határőr jogutód karantén mister sapiens súrlódás bűnbánat charter colos cézár dandár giga kisember migráció outlet ürülék bari beavatás bálvány dzsessz erózió felettes flint jura kiütés kurátor közhely mandátum mantra meeting mielőbbi milícia mocsok rocker vádirat újvilág úrfi arzén balin bárónő charta eltiltás fogság kartell kölök migrén tolakodó zodiákus enyhítő kurázsi licit rémület szleng sürgető vakság aorta bubi fegyház géppuska kolera kárhozat lambda látnok maffiózó sógor önnön betét csendőr doppler glória góliát havanna herpesz ingadozó kereset kullancs lőpor macsó minor prímás szerzet domina entrópia eszkimó formázó hűhó kanonok nevető ragadó végbél árny dopamin drukker editor feledés hadúr input jüan morál prófécia psziché szélütés talmud ebola gerinces petesejt sérelem töltény ürügy anomália atilla effekt elválás fekély főnév himlő marhaság miatyánk alperes estélyi genezis gésa kabbala konszern lumen partizán rizikó széklet síremlék ópium őrlemény barion defekt emeritus enigma fluorid geller lájk maris mumus ondó perzselő szépfiú sógun tűzharc anion csicska dogma finta gólem imola jobbkeze megadás népség output paranoia
vér seb disznó kuka
baromság ciprus csángó estefelé hazafi hertz hólyag indián izlandi nindzsa nyelőcső nyugi oszmán székely szófia észt
'''.split())
FOLD = str.maketrans('áéíóöőúüű', 'aeiooouuu')
def fold(w): return w.translate(FOLD)
def phon(w):
    k = fold(w)
    k = k.replace('ly', 'j')
    for dg in ['ccs', 'ssz', 'zzs', 'ggy', 'lly', 'nny', 'tty', 'ddz']:
        k = k.replace(dg, dg[1:])
    k = re.sub(r'(.)\1', r'\1', k)
    k = k.replace('dzs', 'dzs')
    return k
kept, keys, ends, pref = [], set(), set(), set()
drop = []
for w in ranked:
    if w in BLOCK: continue
    p = phon(w)
    if p in keys or fold(w) in keys:
        drop.append((w, 'same')); continue
    # differing only in the last letter: same stem, same length
    if (p[:-1], len(p)) in ends:
        drop.append((w, 'end')); continue
    # one is the other plus one letter at the end
    if p[:-1] in keys or p in pref:
        drop.append((w, 'plus1')); continue
    kept.append(w); keys.add(p); ends.add((p[:-1], len(p))); pref.add(p[:-1])
kept = sorted(w for w in kept if re.search('[aáeéiíoóöőuúüű]', w))
open('passphrase-words-hu.txt', 'w').write('\n'.join(kept) + '\n')
