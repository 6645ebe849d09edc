"""Removes obvious identifiers from free text before researchers see it: names where the text
says they are names, phone numbers, emails, links and handles, street addresses, places (clinics,
hospitals and programs by their name; cities, counties and states), dates (dates of birth among
them) and long id numbers. It is a floor, not a guarantee; moderators review what goes out, and
researchers are told what kinds of detail were taken out of each answer (`removed_kinds`).

Hand-written on purpose: the libraries made for this (Presidio, scrubadub's name detectors)
need a statistical language model of hundreds of megabytes, and these patterns catch what
mothers in this community actually write ("my counselor at Riverside Recovery Clinic in Dayton";
see tests/community/test_research.py and tests/community/test_deidentify_places.py). Places
are found three ways: a capitalized name ending in a facility word (Clinic, Hospital, Center...);
a capitalized name after "in", "from", "near" and the like, unless it is a word that is not a
place (months, medicines, programs: the reviewed list `NOT_PLACES`); and a reviewed list of
states and large cities, wherever they stand.

Spanish answers are kept as she wrote them, so the same rules read Spanish too: "me llamo Ana",
"mi hijo José", "la Sra. Gómez", "soy de Puebla", "vivo en Querétaro", "el condado de
Montgomery", "5 de enero de 2024", "Calle Olmo 42, apartamento 3B", the facility word first
("la clínica San José"), Spanish state names ("Nueva York") and cities many moms come from
(tests/community/test_research_spanish.py). Known gaps, in both languages: a bare name with no
word around it that says it is a name ("Ana me ayudó"), a small town after "de" without one of
the words above ("mi familia es de Smithville" keeps the town), and lower-case names.
"""

from __future__ import annotations

import re

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Accented capitals and letters too: "José" must go whole, not leave "é" behind.
UPPER = "A-ZÁÉÍÓÚÜÑ"
LETTERS = "a-zA-ZáéíóúüñÁÉÍÓÚÜÑ"
NAME = rf"[{UPPER}][{LETTERS}'’-]+(?:\s+[{UPPER}][{LETTERS}'’-]+)?"
PEOPLE = (
    r"son|daughter|baby|babies|boy|girl|kid|child|husband|wife|partner|boyfriend|girlfriend|"
    r"fianc[eé]e?|mom|mother|dad|father|sister|brother|aunt|uncle|grandma|grandmother|"
    r"grandpa|caseworker|case worker|worker|doctor|nurse|counselor|therapist|midwife|"
    r"sponsor|friend|ex|name"
)
# The same people in Spanish ("mi hijo José", "mi consejera Rocío").
PEOPLE_ES = (
    r"hijo|hija|hijos|hijas|beb[eé]|niño|niña|esposo|esposa|marido|pareja|novio|novia|"
    r"prometido|prometida|mam[aá]|madre|pap[aá]|padre|hermana|hermano|t[ií]a|t[ií]o|abuela|"
    r"abuelo|trabajadora social|trabajador social|doctora|doctor|m[eé]dica|m[eé]dico|enfermera|"
    r"enfermero|consejera|consejero|terapeuta|partera|madrina|padrino|amiga|amigo|ex"
)
SPANISH_MONTHS = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    r"noviembre|diciembre)"
)
STREET = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|circle|cir|highway|hwy|parkway|pkwy"
)

# A facility named by its proper name: "Riverside Recovery Clinic", "St. Mary's Hospital",
# "Hope House". The generic words alone ("the clinic", "my hospital") stay.
FACILITY = (
    r"Clinic|Clinics|Hospital|Hospitals|Center|Centers|Centre|Health|Healthcare|Medical|"
    r"Recovery|Treatment|Rehab|Rehabilitation|Pharmacy|Institute|Services|Program|Programs|"
    r"House|Home|Ministries|Church|Shelter|Foundation|Counseling|Wellness|Associates|Group|"
    r"Practice|Pediatrics|Obstetrics|OB-GYN|OBGYN|Women's|Behavioral|Methadone|Maternity"
)
# A word of a proper name; the words that start an ordinary sentence are not ("My Recovery
# Coach", "The Clinic said").
PROPER = (
    r"(?:St\.|Saint|Mt\.|(?!(?:My|Our|Her|His|Your|Their|The|This|That|A|An|I|We|She|He|They|"
    r"At|In|To|From|And|But|So)\b)[A-Z][a-zA-Z'’&-]*)"
)
# Capitalized words that are not places where "in", "from" or "near" come before them.
NOT_PLACES = frozenset(  # a reviewed word list reads best as words
    """
    I I'm I've I'd Im God Jesus Christ English Spanish Español Jan January Feb February Mar March
    Apr April May Jun June Jul July Aug August Sep Sept September Oct October Nov November Dec
    December Monday Tuesday Wednesday Thursday Friday Saturday Sunday Christmas Easter
    Thanksgiving Halloween Mother's Mothers Father's NICU ICU ER OB AA NA CPS DCS DHS WIC SNAP
    Medicaid Medicare Suboxone Subutex Sublocade Zubsolv Methadone Vivitrol Narcan Naloxone
    Buprenorphine Brixadi Lucemyra Zoloft Prozac Lexapro Wellbutrin Zulresso Zurzuvae Tylenol
    Facebook Instagram Twitter TikTok Discord Telegram Google YouTube Zoom Recovery Research
    Research101 Mom Moms Mommy Mama Dad Baby Grandma Grandpa Jail Prison Court Rehab Detox
    Heaven Spring Summer Fall Autumn Winter Group Church My The This That It He She We They You
    Navidad Pascua Dios Semana Santa Día Enero Febrero Marzo Abril Mayo Junio Julio Agosto
    Septiembre Setiembre Octubre Noviembre Diciembre Lunes Martes Miércoles Jueves Viernes
    Sábado Domingo Metadona Buprenorfina Naloxona Inglés Mamá Mami Papá Bebé Abuela Cárcel
    Iglesia Grupo Investigación
    """.split()  # noqa: SIM905
)
_NOT_PLACE_WORD = "(?:" + "|".join(re.escape(w) for w in sorted(NOT_PLACES)) + r")\b"
STATES = (
    r"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    r"Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|"
    r"Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|"
    r"New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|"
    r"Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|"
    r"Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|Puerto Rico|"
    # Their Spanish names, where they differ.
    r"Nueva York|Nueva Jersey|Nuevo México|Nuevo Mexico|Carolina del Norte|Carolina del Sur|"
    r"Dakota del Norte|Dakota del Sur|Virginia Occidental|Pensilvania|Luisiana|Misuri|Misisipi|"
    r"Hawái|Oregón|Míchigan|Tennesí"
)
STATE_CODES = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    r"NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|DC"
)
# Large cities and the cities of the region the community started in, named anywhere.
CITIES = (
    r"New York City|Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|"
    r"Dallas|Austin|Jacksonville|Fort Worth|Columbus|Charlotte|Indianapolis|San Francisco|"
    r"Seattle|Denver|Nashville|Oklahoma City|El Paso|Boston|Portland|Las Vegas|Detroit|"
    r"Memphis|Louisville|Baltimore|Milwaukee|Albuquerque|Tucson|Fresno|Sacramento|Atlanta|"
    r"Kansas City|Omaha|Raleigh|Miami|Minneapolis|Tulsa|Cleveland|Wichita|New Orleans|Tampa|"
    r"Pittsburgh|Cincinnati|St\. Louis|Saint Louis|Toledo|Akron|Dayton|Youngstown|Canton|"
    r"Lexington|Knoxville|Chattanooga|Huntington|Charleston|Morgantown|Wheeling|Scranton|"
    r"Allentown|Erie|Buffalo|Rochester|Syracuse|Richmond|Norfolk|Roanoke|Birmingham|"
    r"Springfield|Bangor|Burlington|Manchester|Providence|Hartford|Newark|Camden|Trenton|"
    r"Wilmington|Gary|Fort Wayne|Evansville|Lansing|Flint|Grand Rapids|Bowling Green|"
    # Spanish names of US cities, and large cities where many Spanish-speaking moms come from.
    r"Nueva Orleans|Filadelfia|Los Ángeles|San Luis|Ciudad de México|Guadalajara|Monterrey|"
    r"Puebla|Tijuana|Ciudad Juárez|Juárez|Acapulco|Oaxaca|San Juan|Ponce|Bayamón|Caguas|"
    r"Mayagüez|Santo Domingo|Santiago|San Salvador|Tegucigalpa|San Pedro Sula|Managua|"
    r"Guatemala|Bogotá|Medellín|Cali|Caracas|La Habana|Lima|Quito|Guayaquil"
)

# (pattern, replacement), applied in order: the specific before the general.
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?i)\b(?:https?://|www\.)\S+"), "[link]"),
    (re.compile(r"(?<![\w@])@\w{2,}"), "[handle]"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[number]"),
    (
        re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}\b"),
        "[phone]",
    ),
    (re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"), "[date]"),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), "[date]"),
    (
        re.compile(rf"(?i)\b{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"),
        "[date]",
    ),
    (
        re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}(?:,?\s+\d{{4}})?\b"),
        "[date]",
    ),
    (
        re.compile(rf"\b\d{{1,6}}\s+(?:[A-Za-z0-9.'-]+\s+){{1,4}}(?i:{STREET})\b\.?"),
        "[address]",
    ),
    (re.compile(r"(?i)\b(?:apt|apartment|unit|suite)\.?\s*#?\s*\w+\b"), "[address]"),
    # Spanish: the street word first ("Calle Olmo 42", "Avenida Juárez #123"); an apartment
    # only with its number ("apartamento 3B", "depto. 4"), since "departamento" is also a
    # department.
    (
        re.compile(
            r"\b(?:Calle|Avenida|Av\.|Avda\.|Camino|Carretera|Paseo|Bulevar|Callejón)"
            r"(?:\s+(?:de|del|la|las|los)?\s*[A-ZÁÉÍÓÚÑ0-9][\wáéíóúüñ.'’-]*){1,4}"
            r"(?:\s*#?\s*\d{1,6}\b)?"
        ),
        "[address]",
    ),
    (
        re.compile(r"(?i)\b(?:apartamento|apto|depto|departamento)\.?\s*#?\s*\w*\d\w*\b"),
        "[address]",
    ),
    (
        re.compile(rf"(?i)\b\d{{1,2}}\s+de\s+{SPANISH_MONTHS}(?:\s+(?:de|del)\s+\d{{4}})?\b"),
        "[date]",
    ),
    (re.compile(r"\b\d{5}(?:-\d{4})?\b"), "[number]"),
    (re.compile(r"\b\d{7,}\b"), "[number]"),
)

# Places: facilities by name, then named cities, states, counties, then a capitalized name
# where "in", "from", "near" and the like say it is a place.
PLACE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            rf"\b(?:{PROPER}\s+){{1,4}}(?:{FACILITY})(?:\s+(?:{FACILITY}))*\b"
            rf"(?:\s+(?:of|for|at)\s+(?:{PROPER}\s*){{1,3}})?"
        ),
        "[clinic]",
    ),
    # Spanish puts the facility word first, often in lower case: "Centro de Salud Esperanza",
    # "la clínica San José"; a word that is not a place ("el programa WIC") stays.
    (
        re.compile(
            r"\b(?i:centro|clínica|clinica|hospital|programa|farmacia|fundación|refugio|iglesia)"
            rf"(?:\s+(?:de|del|de la|para|San|Santa)?\s*(?!{_NOT_PLACE_WORD})"
            r"[A-ZÁÉÍÓÚÑ][\wáéíóúüñ'’-]*){1,4}"
        ),
        "[clinic]",
    ),
    (re.compile(rf"\b(?:{PROPER}\s+){{1,3}}(?:County|Parish|Township|Borough)\b"), "[place]"),
    (
        re.compile(rf"(?i:\b(condado|municipio|parroquia)\s+de\s+)[{UPPER}][{LETTERS}'’-]+"),
        r"\1 de [place]",
    ),
    (re.compile(rf"\b(?:{CITIES})\b"), "[place]"),
    (re.compile(rf"\b(?:{STATES})\b"), "[place]"),
    (re.compile(rf"(?<=\[place\]),?\s+(?:{STATE_CODES})\b"), ""),
    (re.compile(rf"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?,\s+(?:{STATE_CODES})\b"), "[place]"),
)
PLACE_AFTER = re.compile(
    r"(?i:\b((?:in|at|from|near|outside(?:\s+of)?|around|to|moved\s+to|live\s+in|lives\s+in|"
    r"living\s+in|grew\s+up\s+in|over\s+in|up\s+in|down\s+in|out\s+in|en|desde|"
    r"cerca\s+de|vivo\s+en|vivimos\s+en|viv[ií]a\s+en|soy\s+de|somos\s+de|vengo\s+de|"
    r"venimos\s+de|me\s+mud[eé]\s+a|nos\s+mudamos\s+a|afuera\s+de|fuera\s+de)\s+))"
    r"([A-ZÁÉÍÓÚÑ][a-záéíóúüñ'’]+(?:\s+[A-ZÁÉÍÓÚÑ][a-záéíóúüñ'’]+){0,2})"
)
PLACEHOLDER = re.compile(r"\[(email|link|handle|number|phone|date|address|clinic|place|name)\]")
KIND_WORDS = {
    "email": "an email address",
    "link": "a link",
    "handle": "a social media handle",
    "number": "a number",
    "phone": "a phone number",
    "date": "a date",
    "address": "a street address",
    "clinic": "a clinic, hospital or program name",
    "place": "a place name",
    "name": "a name",
}


def _place_after(match: re.Match[str]) -> str:
    words = match.group(2).split()
    # "in God", "from March", "to Suboxone": not places. "in Dayton Ohio" is one place.
    if words[0] in NOT_PLACES:
        return match.group(0)
    return f"{match.group(1)}[place]"


# Names where the words around them say they are names.
NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"\b(?:Dr|Dra|Mrs|Mr|Ms|Miss|Sr|Sra|Srta|Lic|Judge|Officer)\.?\s+{NAME}"),
        "[name]",
    ),
    (
        re.compile(
            rf"(?i:\b(my name is|my name's|name is|i am called|i'm called|call me|this is|"
            rf"i am|i'm)\s+){NAME}(?=\s*(?:[,.!?;:]|$|\band\b))"
        ),
        r"\1 [name]",
    ),
    (
        re.compile(
            rf"(?i:\b(my|our|her|his)\s+({PEOPLE})(?:\s+(?:is\s+)?(?:named|called))?\s+){NAME}"
        ),
        r"\1 \2 [name]",
    ),
    (re.compile(rf"(?i:\b(?:named|called)\s+){NAME}"), "named [name]"),
    # Spanish: "me llamo Ana", "soy Ana.", "mi hijo José", "mi hija se llama Sofía".
    (
        re.compile(
            rf"(?i:\b(me llamo|mi nombre es|soy|ll[aá]mame|me dicen)\s+){NAME}"
            rf"(?=\s*(?:[,.!?;:]|$|\by\b))"
        ),
        r"\1 [name]",
    ),
    (
        re.compile(
            rf"(?i:\b(mi|mis|nuestro|nuestra|su)\s+({PEOPLE_ES})"
            rf"(?:\s+(?:se\s+llama|que\s+se\s+llama|llamad[oa]))?\s+){NAME}"
        ),
        r"\1 \2 [name]",
    ),
    (re.compile(rf"(?i:\b(se\s+llama|se\s+llamaba|llamad[oa])\s+){NAME}"), r"\1 [name]"),
    # A sign-off on its own line: "- Jess" or "Love, Jess".
    (
        re.compile(
            rf"(?m)^\s*(?:[-–—~]\s*|(?i:love|thanks|thank you|xo+|gracias|saludos|besos|"
            rf"abrazos|con cariño|cariños),?\s+){NAME}\s*$"
        ),
        "[name]",
    ),
)


def deidentify(text: str) -> str:
    """The text with obvious identifiers replaced by [email], [phone], [clinic], [place],
    [name] and the like."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    for pattern, replacement in NAME_RULES:
        text = pattern.sub(replacement, text)
    for pattern, replacement in PLACE_RULES:
        text = pattern.sub(replacement, text)
    return PLACE_AFTER.sub(_place_after, text)


def removed_kinds(text: str) -> list[str]:
    """What kinds of detail de-identification took out of `text`, in plain words, once each,
    in the order they first appear ("a place name", "a clinic, hospital or program name")."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text):
        seen.setdefault(KIND_WORDS[match.group(1)], None)
    return list(seen)
