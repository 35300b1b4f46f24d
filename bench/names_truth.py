"""Regenerate the truth of the names benchmark, ``bench/names_labels.json``: which items name which entity.

The truth is whether an item **names** the entity: its name in any script, language, spelling or
transliteration, and the name's inflected forms (Путина, Moskwie, Russlands, Києві); abbreviations that are
names (РФ, USA, ЄС, ONU). Not the name: adjectives and demonyms (Ukrainian, russisch, российский, путинский,
Київський, Japanese), words derived from the name (Trumpism, Київщина, Berliner), German compounds written as
one word (Deutschlandtakt, Europawahl), and a homonym: the word where it refers to something else (Paris
Hilton, Hunter Biden, North America, the verb to trump). The word counts wherever it refers to the entity:
used attributively (US officials, Kyiv-based, Ukraine-Krieg, 日本酿酒商), inside a name that refers to it (IBM
Deutschland, Air France, Aéroports de Paris, US-Dollar), and a city standing for its government (Moscow said,
Beijing warned). Each entity's own decisions are in its ``decision``.

How a label is made: each entity has a generous list of its forms as regular expressions (whole words; in
scripts written without spaces, anywhere; a few in one language only), matched after removing the spans that
name something else (``not_the_entity``); then the hand review, ``REVIEWED``, settles the items no expression
can (the "América" that is the continent). ``--review`` prints, per entity, every word the forms matched and
every related word they did not (``loose``: Ukrainian, Rosjan, Київщиною...), with the items' languages, and
``--contexts`` each match in its sentence: that is how every form was checked by hand.

The labels file is the truth the benchmark reads (``bench/names.py``); this script is how it was made, so that
a reviewer can reproduce and question it. From the repository root::

    python -m bench.names_truth --review        # print the words each entity's forms matched, and the near misses
    python -m bench.names_truth --write         # write bench/names_labels.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import regex

from bench.names_corpus import CORPUS, Item, load_items

LABELS = Path(__file__).with_name("names_labels.json")


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    query: str  # the rule an English-speaking analyst writes
    kind: str  # person | place | organisation
    split: str  # dev (tune on it) | held-out (measure only)
    decision: str  # what counts as naming it, where that needed deciding
    forms: tuple[str, ...]  # the name's forms, whole words (case-insensitive; (?-i:...) where case matters)
    unspaced: tuple[str, ...] = ()  # forms in scripts without spaces, matched anywhere in the text
    local: tuple[tuple[str, str], ...] = ()  # (language, form): forms that are the name in one language only
    not_the_entity: tuple[str, ...] = ()  # other entities bearing the name, removed before matching
    loose: tuple[str, ...] = ()  # stems of related words, for the review only

    def pattern(self, language: str | None) -> regex.Pattern[str]:
        forms = [*self.forms, *(form for only, form in self.local if only == language)]
        spaced = rf"(?<!\w)(?:{'|'.join(forms)})(?!\w)"
        inside = [regex.escape(form) for form in self.unspaced]
        return regex.compile("|".join([spaced, *inside]), regex.IGNORECASE)

    def vetoes(self) -> regex.Pattern[str] | None:
        if not self.not_the_entity:
            return None
        return regex.compile(rf"(?<!\w)(?:{'|'.join(self.not_the_entity)})(?!\w)", regex.IGNORECASE)


ENTITIES = (
    # People ---------------------------------------------------------------------------------------------------
    Entity(
        "putin", "Putin", "person", "dev",
        "Vladimir Putin; the Canadian dish poutine is not him",
        forms=(r"Putin(?:s|a|em|owi|ie|u|e)?", r"Poutine", r"Путін(?:а|у|ові|им|і)?",
               r"Путин(?:а|у|ым|е)?"),
        unspaced=("普京", "プーチン", "푸틴", "پوتن", "پیوٹن", "بوتين"),
        loose=("Putin", "Poutin", "Путін", "Путин"),
    ),
    Entity(
        "zelensky", "Zelensky", "person", "dev",
        "Volodymyr Zelensky; Olena Zelenska, his wife, is not him",
        forms=(r"Zelensk(?:y|yy|iy|i|ij|yj)", r"Selenskyj?s?", r"Selenskij", r"Zełensk(?:i|iego|im|iemu)",
               r"Зеленськ(?:ий|ого|ому|им)", r"Зеленск(?:ий|ого|ому|им|ом)"),
        unspaced=("泽连斯基", "ゼレンスキー", "젤렌스키", "زیلنسکی", "زيلينسكي"),
        loose=("Zelens", "Selensk", "Zełensk", "Зеленськ", "Зеленск"),
    ),
    Entity(
        "trump", "Trump", "person", "held-out",
        "Donald Trump; his family are other people (Melania, Ivanka, Eric, Donald Trump Jr.); the verb and the "
        "card game (trump, trumped) are not; Trumpism, Trumpers are derived words",
        forms=(r"(?-i:Trump)s?", r"(?-i:TRUMP)", r"Trump(?:a|em|owi|ie)", r"Трамп(?:а|у|ові|ом|е)?"),
        unspaced=("特朗普", "川普", "トランプ", "트럼프", "ٹرمپ", "ترامب"),
        not_the_entity=(r"Melania\s+Trump", r"Ivanka\s+Trump", r"Eric\s+Trump", r"Donald\s+Trump\s+Jr",
                        r"Lara\s+Trump", r"Tiffany\s+Trump", r"Barron\s+Trump"),
        loose=("Trump", "Трамп"),
    ),
    Entity(
        "biden", "Biden", "person", "held-out",
        "Joe Biden; Hunter, Jill and Beau Biden are not him; 'the Bidens' (the couple) names him",
        forms=(r"Biden[s]?", r"Biden(?:a|em|owi|ie)", r"Байден(?:а|у|ові|ом|е)?"),
        unspaced=("拜登", "バイデン", "바이든", "بائیڈن", "بايدن"),
        not_the_entity=(r"Hunter\s+Biden", r"Jill\s+Biden", r"Beau\s+Biden"),
        loose=("Biden", "Байден"),
    ),
    Entity(
        "macron", "Macron", "person", "held-out",
        "Emmanuel Macron; Brigitte Macron is not him",
        forms=(r"Macron[s]?", r"Macron(?:a|em|owi|ie)", r"Макрон(?:а|у|ові|ом|е)?"),
        unspaced=("马克龙", "马克宏", "マクロン", "마크롱", "میکرون", "ماكرون"),
        not_the_entity=(r"Brigitte\s+Macron",),
        loose=("Macron", "Макрон"),
    ),
    # Places: countries ----------------------------------------------------------------------------------------
    Entity(
        "ukraine", "Ukraine", "place", "dev",
        "the country, also inside a name that refers to it (Нафтогаз Украины); Ukrainian, українці, украинский "
        "are not",
        forms=(r"Ukraine[s]?", r"Ukrain(?:a|y|ie|ę|ą|o)", r"Ucrain[ae]", r"Ucrânia", r"Ukrajin(?:a|y|ě|u|ou)",
               r"Україн(?:а|и|і|у|ою|о)", r"Украин(?:а|ы|е|у|ой|ою)"),
        unspaced=("乌克兰", "烏克蘭", "ウクライナ", "우크라이나", "یوکرین", "أوكرانيا"),
        loose=("Ukrain", "Україн", "Украин", "Ucrain", "Ukrajin"),
    ),
    Entity(
        "russia", "Russia", "place", "dev",
        "the country, as Russia, РФ, the Russian Federation; Russian, russisch, российский, Russians are not; "
        "the Kremlin, the Soviet Union are not",
        forms=(r"Russia[s]?", r"Russland[s]?", r"Russie", r"Rusia", r"Rússia", r"Ros(?:ja|ji|ję|ją|jo)",
               r"Rus(?:ko|ka|ku|kem)", r"Росі(?:я|ї|ю|єю)", r"Росси(?:я|и|ю|ей)", r"(?-i:РФ)",
               r"Russian\s+Federation", r"Российск(?:ая|ой|ую)\s+Федераци(?:я|и|ю|ей)",
               r"Російськ(?:а|ої|у|ою)\s+Федераці(?:я|ї|ю|єю)", r"Federacj[ai]\s+Rosyjsk(?:a|iej)",
               r"Russische[n]?\s+Föderation"),
        unspaced=("俄罗斯", "俄羅斯", "俄国", "ロシア", "러시아", "روسيا"),
        loose=("Russ", "Rosj", "Rosy", "Росі", "Росс", "Рос", "Rusk", "Rusi", "روس"),
    ),
    Entity(
        "germany", "Germany", "place", "dev",
        "the country; German, deutsch, Deutsche Bahn are not; compounds written as one word (Deutschlandtakt, "
        "Deutschlandfunk) are not",
        forms=(r"Germany", r"Deutschland[s]?", r"Allemagne", r"Germania", r"Alemania", r"Alemanha",
               r"Niem(?:cy|iec|czech|com|cami)", r"Německ(?:o|a|u)", r"Німеччин(?:а|и|і|у|ою)",
               r"Германи(?:я|и|ю|ей)", r"Bundesrepublik\s+Deutschland", r"(?-i:BRD)"),
        unspaced=("德国", "德國", "ドイツ", "독일", "جرمنی", "ألمانيا"),
        loose=("German", "Deutschl", "Allemagne", "Alemania", "Alemanha", "Niem", "Німеччин", "Германи"),
    ),
    Entity(
        "france", "France", "place", "dev",
        "the country, also inside a name that refers to it (Air France, Radio France, Agence France-Presse); "
        "français, French, französisch are not; Anatole France is not",
        forms=(r"France", r"Frankreich[s]?", r"Francia", r"França", r"Franc(?:ja|ji|ję|ją)", r"Franci(?:e|i)",
               r"Франці(?:я|ї|ю|єю)", r"Франци(?:я|и|ю|ей)"),
        unspaced=("法国", "法國", "フランス", "프랑스", "فرانس", "فرنسا"),
        not_the_entity=(r"Anatole\s+France",),
        loose=("Franc", "Франц", "Франці"),
    ),
    Entity(
        "poland", "Poland", "place", "held-out",
        "the country; Polish, polnisch, polski (the adjective), Poles are not",
        forms=(r"Poland", r"Polen[s]?", r"Pologne", r"Polonia", r"Polónia", r"(?-i:Polsk[aoę]|Polsce|Polską|Polski)",
               r"(?-i:POLSKA)", r"Польщ(?:а|і|у|ею)", r"Польш(?:а|и|у|ей)"),
        unspaced=("波兰", "波蘭", "ポーランド", "폴란드", "پولینڈ", "بولندا"),
        loose=("Polsk", "Polsc", "Polen", "Polon", "Polan", "Польщ", "Польш"),
    ),
    Entity(
        "china", "China", "place", "dev",
        "the People's Republic; Chinese, chinesisch, китайский are not; Taiwan (the Republic of China) is not",
        forms=(r"China[s]?", r"Chine", r"Cina", r"Chiny", r"Chin(?:ach|om|ami)",
               r"Čín(?:a|y|ě|u|ou)", r"Кита(?:й|ю|ї|єм|я|е|ем)", r"KRL", r"ChRL"),
        unspaced=("中国", "中國", "중국", "چین", "الصين", "中華人民共和国"),
        local=(("pl", r"(?-i:Chin)"),),  # the Polish genitive (dla Chin); in English, Chin is a name
        not_the_entity=(r"Republic\s+of\s+China",),
        loose=("Chin", "Čín", "Кита", "Chine"),
    ),
    Entity(
        "japan", "Japan", "place", "held-out",
        "the country, also inside a name that refers to it (CNET Japan); Japanese, japonês, Японці are not; in "
        "Chinese and Japanese 日本 before a noun is the name (日本酿酒商, Japan's brewer), 日本語 (the language) is not",
        forms=(r"Japan[s]?", r"Japon", r"Giappone", r"Japón", r"Japão", r"Japoni(?:a|i|ę|ą)", r"Japonsk(?:o|a|u)",
               r"Японі(?:я|ї|ю|єю)", r"Япони(?:я|и|ю|ей)"),
        unspaced=("日本", "일본", "جاپان", "اليابان"),
        not_the_entity=(r"日本語",),
        loose=("Japan", "Japon", "Япон", "Giappon"),
    ),
    Entity(
        "united-states", '"United States"', "place", "dev",
        "the country, as the United States, US, U.S., USA, États-Unis, США, امریکہ, and America where it means "
        "the country (not the continent: North, South, Latin or Central America, Copa América); also inside a "
        "name that refers to it (US-Dollar, US Open); American, amerikanisch, امریکی are not",
        forms=(r"United\s+States", r"(?-i:US|U\.S|USA|U\.S\.A|EUA|EE\.\s?UU|EEUU)", r"[ÉE]tats[\s-]+Unis",
               r"Estados\s+Unidos", r"Stati\s+Uniti", r"Vereinigten?\s+Staaten",
               r"Stan(?:y|ów|ach|om)\s+Zjednoczon(?:e|ych|ym)",
               r"Spojen(?:é|ých)\s+stát(?:y|ech|ů)", r"(?-i:США)", r"Сполучен(?:і|их)\s+Штат(?:и|ів|ах)",
               r"Соединенн(?:ые|ых)\s+Штат(?:ы|ов|ах)", r"Соединённ(?:ые|ых)\s+Штат(?:ы|ов|ах)",
               r"America", r"Amerika", r"América", r"Amérique", r"Америк(?:а|и|е|у|ой)", r"امریکہ", r"امریکا",
               r"أمريكا"),
        unspaced=("美国", "美國", "アメリカ合衆国", "米国", "미국", "الولايات المتحدة"),
        not_the_entity=(r"(?:North|South|Latin|Central)\s+America", r"(?:Nord|Süd|Latein|Mittel)amerika",
                        r"Am[ée]rica\s+(?:del|do|du|Latina|Central)", r"Copa\s+Am[ée]rica",
                        r"(?:Северн|Южн|Латинск|Центральн)\w+\s+Америк\w+", r"Américas?\s+latine"),
        loose=("United", "(?-i:US)", "Amerik", "Americ", "Améri", "Америк", "امریک", "Estados", "États", "Etats",
               "Stany", "Stan", "Vereinigt", "Сполуч", "Соедин"),
    ),
    Entity(
        "pakistan", "Pakistan", "place", "dev",
        "the country; Pakistani is not",
        forms=(r"Pakistan[s]?", r"Pakistan(?:u|ie|em)", r"Paquistão", r"Pakistán", r"Пакистан(?:а|у|і|е|ом)?",
               r"پاکستان", r"باكستان"),
        unspaced=("巴基斯坦", "パキスタン", "파키스탄"),
        loose=("Pakistan", "پاکستانی", "Пакистан"),
    ),
    Entity(
        "syria", "Syria", "place", "held-out",
        "the country; Syrian, syrien (the French adjective) are not; the Urdu شام (also the word for evening) "
        "would need reading in its sentence: it does not occur alone here",
        forms=(r"Syria", r"Syrien[s]?(?<!\bsyrien)", r"Syrie", r"Siria", r"Síria", r"Syri(?:i|ę|ą)", r"Sýri(?:e|i)",
               r"Сирі(?:я|ї|ю|єю)", r"Сири(?:я|и|ю|ей)", r"سوريا", r"سورية"),
        unspaced=("叙利亚", "敘利亞", "シリア", "시리아"),
        loose=("Syri", "Siri", "Сири", "Сирі", "شام"),
    ),
    Entity(
        "belarus", "Belarus", "place", "dev",
        "the country; Belarusian, белорусский are not",
        forms=(r"Belarus", r"Weißrussland[s]?", r"Biélorussie", r"Bielorussia", r"Bielorrusia", r"Białoru(?:ś|si|sią)",
               r"Běloruska?", r"Білорус(?:ь|і|сю)", r"Беларус(?:ь|и|ью)", r"Белорусси(?:я|и|ю|ей)"),
        unspaced=("白俄罗斯", "ベラルーシ", "벨라루스", "بیلاروس"),
        loose=("Belarus", "Białoru", "Білорус", "Беларус", "Белорус", "Weißruss"),
    ),
    # Places: cities -------------------------------------------------------------------------------------------
    Entity(
        "moscow", "Moscow", "place", "dev",
        "the city, and the city standing for the Russian government; Muscovite, московский are not",
        forms=(r"Moscow", r"Moskau", r"Moscou", r"Mosca", r"Moscú", r"Mosc[oó]vo", r"Moskv(?:a|y|ě|u|ou)",
               r"Moskw(?:a|y|ie|ę|ą)", r"Москв(?:а|и|і|у|ою|ы|е|ой)", r"ماسکو", r"موسكو"),
        unspaced=("莫斯科", "モスクワ", "모스크바"),
        loose=("Mosc", "Moskau", "Moskw", "Moskv", "Москв", "Моско"),
    ),
    Entity(
        "kyiv", "Kyiv", "place", "dev",
        "the city, and the city standing for the Ukrainian government; Київщина (the region), Київський, "
        "Kiewer are not; Kyivstar (a company) is not",
        forms=(r"Kyiv", r"Kiev", r"Kiew", r"Kijów", r"Kijow(?:a|ie|em)", r"Kyjev(?:a|ě|em)?", r"Київ",
               r"Києв(?:а|і|у|ом)", r"Киев(?:а|е|у|ом)?"),
        unspaced=("基辅", "基輔", "キーウ", "キエフ", "키이우", "키예프", "کیف", "کیئف", "كييف"),
        loose=("Kyiv", "Kiev", "Kiew", "Kijo", "Kyjev", "Київ", "Києв", "Киев"),
    ),
    Entity(
        "berlin", "Berlin", "place", "dev",
        "the city, and the city standing for the German government; Berliner (the adjective and the "
        "inhabitant) is not",
        forms=(r"Berlin[s]?", r"Berlino", r"Berlín", r"Berlin(?:ie|a|em)", r"Берлін(?:а|і|ом)?",
               r"Берлин(?:а|е|ом)?"),
        unspaced=("柏林", "ベルリン", "베를린", "برلن"),
        not_the_entity=(r"Irving\s+Berlin",),
        loose=("Berlin", "Берлін", "Берлин"),
    ),
    Entity(
        "paris", "Paris", "place", "dev",
        "the city, and the city standing for the French government, also inside a name that refers to it "
        "(Aéroports de Paris, Paris Saint-Germain); Parisian, parisien are not; Paris Hilton and other people "
        "named Paris are not the city",
        forms=(r"Paris", r"París", r"Parigi", r"Pary(?:ż|ża|żu|żem)", r"Paříž(?:e|i)?", r"Париж(?:а|е|і|ем)?"),
        unspaced=("巴黎", "パリ", "파리", "پیرس", "باريس"),
        not_the_entity=(r"Paris\s+Hilton", r"Paris\s+Jackson"),
        loose=("Paris", "Pary", "Paříž", "Париж", "Parig"),
    ),
    Entity(
        "london", "London", "place", "held-out",
        "the city, and the city standing for the British government; Londoner is not; Jack London is not",
        forms=(r"London", r"Londres", r"Londra", r"Londyn(?:u|ie|em)?", r"Londýn(?:a|ě|em)?", r"Лондон(?:а|е|і|ом)?",
               r"لندن"),
        unspaced=("伦敦", "倫敦", "ロンドン", "런던"),
        not_the_entity=(r"Jack\s+London",),
        loose=("London", "Londr", "Londyn", "Londýn", "Лондон"),
    ),
    Entity(
        "beijing", "Beijing", "place", "dev",
        "the city, and the city standing for the Chinese government; Pekinese is not",
        forms=(r"Beijing", r"Peking", r"Pékin", r"Pechino", r"Pekín", r"Pequim", r"Pekin(?:u|ie|em|owi)?",
               r"Пекін(?:а|і|ом)?", r"Пекин(?:а|е|ом)?", r"بیجنگ", r"بكين"),
        unspaced=("北京", "ペキン", "베이징"),
        loose=("Beijing", "Peking", "Pékin", "Pechin", "Pekin", "Pequim", "Пекін", "Пекин"),
    ),
    # Organisations --------------------------------------------------------------------------------------------
    Entity(
        "nato", "NATO", "organisation", "dev",
        "the alliance, by name or acronym; the Alliance, альянс without its name is not",
        forms=(r"NATO", r"OTAN", r"НАТО", r"North\s+Atlantic\s+Treaty\s+Organi[sz]ation", r"نیٹو", r"الناتو"),
        unspaced=("北约", "北約", "北大西洋条約機構", "나토"),
        loose=("NATO", "OTAN", "НАТО", "Nato"),
    ),
    Entity(
        "european-union", '"European Union"', "organisation", "dev",
        "the union, by name or acronym (EU, UE, ЄС, ЕС, Євросоюз); Europe, European, the Union alone, the "
        "European Parliament or Commission without the union's name are not; a compound written as one word "
        "(Europawahl) is not, a hyphenated one is the name (EU-Kommission)",
        forms=(r"European\s+Union", r"(?-i:EU|E\.U|UE|ЄС|ЕС)", r"Europäische[n]?\s+Union", r"Union\s+européenne",
               r"Unione\s+[Ee]uropea", r"Unión\s+Europea", r"União\s+Europeia",
               r"Uni(?:a|i|ę|ą)\s+Europejsk(?:a|iej|ą)", r"Evropsk(?:á|é)\s+uni(?:e|i)", r"Євросоюз(?:у|і|ом)?",
               r"Європейськ(?:ий|ого|ому|им)\s+[Сс]оюз(?:у|і|ом)?",
               r"Евросоюз(?:а|е|у|ом)?", r"Европейск(?:ий|ого|ому|им)\s+[Сс]оюз(?:а|е|у|ом)?", r"یورپی\s+یونین"),
        unspaced=("欧盟", "歐盟", "欧州連合", "유럽연합"),
        loose=("(?-i:EU)", "(?-i:UE)", "Europ", "Європ", "Европ", "Євросоюз", "Евросоюз", "Unia", "Unii"),
    ),
    Entity(
        "united-nations", '"United Nations"', "organisation", "held-out",
        "the organisation, by name or acronym (UN, U.N., ONU, ООН, UNO); its agencies named by their own "
        "acronym alone (UNICEF, UNHCR) are not",
        forms=(r"United\s+Nations", r"(?-i:UN|U\.N|UNO|ONU|ONZ|OSN|ООН)", r"Vereinte[n]?\s+Nationen",
               r"Nations\s+[Uu]nies", r"Naciones\s+Unidas", r"Nações\s+Unidas", r"Nazioni\s+Unite",
               r"Organizacj(?:a|i)\s+Narodów\s+Zjednoczonych", r"Організаці(?:я|ї)\s+Об'?єднаних\s+Націй",
               r"Организаци(?:я|и)\s+Объедин[её]нных\s+Наций", r"اقوام\s+متحدہ", r"الأمم\s+المتحدة"),
        unspaced=("联合国", "聯合國", "国際連合", "国連", "유엔", "국제연합"),
        loose=("United", "Nation", "(?-i:UN)", "ONU", "ООН", "Vereint", "Unid", "Unies"),
    ),
)

# Hand decisions no expression can take, per entity and item key: True names the entity, False does not. Each
# was read in its item (``--review`` prints them); the reason is the evidence recorded in the labels file.
REVIEWED: dict[str, dict[str, tuple[bool, str]]] = {
    "united-states": {
        "articles/trafilatura-eval/html/elpais.com.ciencia.html.gz": (
            False, "'el extremo sur de América' is the continent; the page names no country of it"),
    },
}


@dataclass(frozen=True, slots=True)
class Found:
    words: tuple[str, ...]  # the forms that name the entity, as written
    vetoed: tuple[str, ...]  # spans that name another entity bearing the name


def find(entity: Entity, item: Item) -> Found:
    text = f"{item.title}\n{item.text}"
    vetoes = entity.vetoes()
    vetoed: list[str] = []
    if vetoes is not None:
        vetoed = [match.group() for match in vetoes.finditer(text)]
        text = vetoes.sub(" ", text)
    words = [" ".join(match.group().split()) for match in entity.pattern(item.language).finditer(text)]
    return Found(tuple(dict.fromkeys(words)), tuple(dict.fromkeys(" ".join(v.split()) for v in vetoed)))


def label(items: list[Item]) -> dict[str, dict[str, list[str]]]:
    """item key -> entity id -> the words that name it (for a reviewed decision without one: its reason)."""
    labels: dict[str, dict[str, list[str]]] = {item.key: {} for item in items}
    for entity in ENTITIES:
        decisions = REVIEWED.get(entity.id, {})
        for item in items:
            found = find(entity, item)
            decision = decisions.get(item.key)
            if decision is not None:
                if decision[0]:
                    labels[item.key][entity.id] = list(found.words) or [f"reviewed: {decision[1]}"]
            elif found.words:
                labels[item.key][entity.id] = list(found.words)
    return labels


def review(items: list[Item], entity_ids: set[str] | None, contexts: bool) -> None:
    """Per entity: the words its forms matched and the related words they did not, with the languages."""
    for entity in ENTITIES:
        if entity_ids and entity.id not in entity_ids:
            continue
        matched: dict[str, Counter[str]] = defaultdict(Counter)
        vetoed: dict[str, Counter[str]] = defaultdict(Counter)
        near: dict[str, Counter[str]] = defaultdict(Counter)
        loose = regex.compile(rf"(?<!\w)(?:{'|'.join(entity.loose)})\w*", regex.IGNORECASE) if entity.loose else None
        positives = Counter[str]()
        for item in items:
            found = find(entity, item)
            language = item.language or "?"
            for word in found.words:
                matched[word][language] += 1
            for span in found.vetoed:
                vetoed[span][language] += 1
            if found.words:
                positives[language] += 1
            if loose is not None:
                taken = {w.casefold() for w in found.words}
                for word in {m.group() for m in loose.finditer(f"{item.title}\n{item.text}")}:
                    if word.casefold() not in taken:
                        near[word][language] += 1
            if contexts and found.words:
                print(f"    {item.key} [{language}] {found.words}: {snippet(item, found.words[0])}")
        print(f"== {entity.id} ({entity.split}) query {entity.query}: {sum(positives.values())} items "
              f"{dict(sorted(positives.items()))}")
        print("   matched:", _listing(matched))
        if vetoed:
            print("   another entity:", _listing(vetoed))
        print("   not matched:", _listing(near))
        for key, (names, reason) in REVIEWED.get(entity.id, {}).items():
            print(f"   reviewed {key}: {'names it' if names else 'does not'} ({reason})")


def snippet(item: Item, word: str, width: int = 60) -> str:
    text = " ".join(f"{item.title} | {item.text}".split())
    found = regex.search(rf"(?<!\w){regex.escape(word)}(?!\w)", text) or regex.search(regex.escape(word), text)
    at = found.start() if found else 0
    return text[max(0, at - width): at + len(word) + width]


def _listing(words: dict[str, Counter[str]]) -> str:
    ordered = sorted(words.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return "; ".join(f"{word} {dict(langs)}" for word, langs in ordered) or "-"


def write(items: list[Item], path: Path) -> dict[str, object]:
    labels = label(items)
    document = {
        "about": (
            "Which items of ../shared/corpus name which entity: the truth of bench/names.py, made by "
            "bench/names_truth.py (forms per entity, then a hand review) and read by no other code. An item is "
            "keyed by its path in the corpus (#n: a feed's n-th entry); digest is a hash of its title and text "
            "as read when it was labelled; entities maps an entity id to the words that name it there."
        ),
        "entities": [
            {"id": e.id, "query": e.query, "kind": e.kind, "split": e.split, "decision": e.decision} for e in ENTITIES
        ],
        "items": [
            {"key": item.key, "language": item.language, "digest": item.digest, "entities": labels[item.key]}
            for item in items
        ],
    }
    # One item a line, so that a change of truth is one line of a diff.
    head = json.dumps({k: v for k, v in document.items() if k != "items"}, ensure_ascii=False, indent=1)
    lines = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in document["items"])
    path.write_text(f'{head[:-2]},\n "items": [\n{lines}\n ]\n}}\n', encoding="utf-8")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate or review the truth of bench/names.py.")
    parser.add_argument("--review", action="store_true", help="print the words each entity's forms matched")
    parser.add_argument("--contexts", action="store_true", help="with --review, each matching item in context")
    parser.add_argument("--entity", action="append", help="review only this entity id (repeatable)")
    parser.add_argument("--write", action="store_true", help=f"write {LABELS.name}")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: the corpus is not at {CORPUS}")
        return 0
    items = load_items()
    if args.review or not args.write:
        review(items, set(args.entity or ()), args.contexts)
    if args.write:
        document = write(items, LABELS)
        named = sum(1 for item in document["items"] if item["entities"])  # type: ignore[union-attr]
        print(f"wrote {LABELS}: {len(items)} items, {named} name at least one of {len(ENTITIES)} entities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
