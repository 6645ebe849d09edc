"""Spanish in the rule-based crisis screen: crises found with the right category, everyday talk not.

2026-12-01: Spanish signals, first version, pending native-speaker review. The messages are
written the way US Spanish-speaking mothers text (lowercase, no accents, typos, "q", "xq", "k").
"""

from __future__ import annotations

import pytest

from safety.normalize import fold_accents
from safety.screen import Screener, Severity, default_screener


@pytest.fixture(scope="module")
def screener() -> Screener:
    return default_screener()


CRISES = [
    # suicide
    ("me quiero morir", "suicide"),
    ("ya no aguanto mas, me quiero matar", "suicide"),
    ("kiero morirme ya", "suicide"),
    ("ya no quiero vivir", "suicide"),
    ("ya no kiero vivir asi, no se q hacer", "suicide"),
    ("estoy pensando en quitarme la vida", "suicide"),
    ("quiero acabar con todo", "suicide"),
    ("no quiero despertar mañana", "suicide"),
    ("mis hijos estarian mejor sin mi", "suicide"),
    ("estaria mejor muerta", "suicide"),
    ("me voy a matar esta noche", "suicide"),
    ("ya me tome las pastillas para no despertar", "suicide"),
    ("este es mi ultimo mensaje", "suicide"),
    ("tengo pensamientos suicidas desde q nacio el bebe", "suicide"),
    ("¿Para qué seguir? Me quiero suicidar", "suicide"),
    ("cuiden a mis hijos cuando ya no este", "suicide"),
    ("he estado juntando mis pastillas", "suicide"),
    ("ojala me muriera mientras duermo", "suicide"),
    ("no le veo sentido a la vida", "suicide"),
    ("quiero dormirme y no despertar", "suicide"),
    ("no se q hacer, me quiero morir", "suicide"),
    ("mequieromatar", "suicide"),
    # self-harm
    ("tengo ganas de cortarme otra vez", "self_harm"),
    ("me corte las muñecas", "self_harm"),
    ("quiero hacerme daño", "self_harm"),
    ("me corte a proposito", "self_harm"),
    ("volvi a cortarme anoche", "self_harm"),
    ("me corte muy profundo y no para de sangrar", "self_harm"),
    # overdose
    ("me tome todas las pastillas", "overdose"),
    ("me tomé como 20 pastillas de tylenol", "overdose"),
    ("mi novio se paso de dosis", "overdose"),
    ("mi novio no respira", "overdose"),
    ("mi esposo no despierta!!", "overdose"),
    ("ella esta morada y no reacciona", "overdose"),
    ("le puse narcan y sigue sin despertar", "overdose"),
    ("no respira, que hago", "overdose"),
    ("mi amiga tiene una sobredosis", "overdose"),
    ("mezcle la metadona con alcohol", "overdose"),
    ("no lo puedo despertar", "overdose"),
    # intent to use
    ("hoy voy a usar otra vez", "intent_to_use"),
    ("ya compre fentanilo", "intent_to_use"),
    ("el dealer ya viene para aca", "intent_to_use"),
    ("voy a drogarme esta noche", "intent_to_use"),
    ("recai y voy a volver a usar", "intent_to_use"),
    ("le escribi a mi dealer", "intent_to_use"),
    ("tengo muchas ganas de drogarme ahorita", "intent_to_use"),
    ("se me acabo la metadona y la clinica esta cerrada", "intent_to_use"),
    ("ando malilla", "intent_to_use"),
    # danger to the baby
    ("tengo miedo de hacerle daño a mi bebe", "baby_danger"),
    ("sacudi al bebe", "baby_danger"),
    ("el bebe no respira", "baby_danger"),
    ("mi bb esta moradito", "baby_danger"),
    ("se me cayo el bebe de la cama", "baby_danger"),
    ("el bebe se trago una pila", "baby_danger"),
    ("las voces me dicen que el bebe no es mio", "baby_danger"),
    ("deje al bebe solo en el carro", "baby_danger"),
    ("pienso en ahogar a mi bebe", "baby_danger"),
    # violence at home
    ("mi esposo me pega", "violence"),
    ("me golpeo otra vez en la cara", "violence"),
    ("mi novio me quiere matar", "violence"),
    ("me amenazo con una pistola", "violence"),
    ("me tiene encerrada en el cuarto", "violence"),
    ("mi pareja tiene un cuchillo", "violence"),
    ("dijo que me va a matar si lo dejo", "violence"),
    ("mi ex esta tratando de entrar a la casa", "violence"),
    ("me agarro del cuello", "violence"),
    # perinatal medical emergency
    ("estoy sangrando mucho", "medical"),
    ("sangro mucho desde el parto", "medical"),
    ("creo que tengo una hemorragia", "medical"),
    ("tuve una convulsion", "medical"),
    ("tengo dolor de cabeza muy fuerte y veo lucecitas", "medical"),
    ("el bebe no se mueve desde ayer", "medical"),
    ("se me rompio la fuente y tengo 30 semanas", "medical"),
    ("no puedo respirar", "medical"),
    ("lleno una toalla cada hora", "medical"),
]


@pytest.mark.parametrize(("text", "category"), CRISES)
def test_spanish_crises_are_found(screener: Screener, text: str, category: str) -> None:
    result = screener.screen(text)
    assert result.crisis, text
    assert result.category == category, (text, result)
    assert result.evidence


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("el bebe no respira", Severity.IMMINENT),
        ("me tome todas las pastillas", Severity.IMMINENT),
        ("me voy a matar esta noche", Severity.IMMINENT),
        ("me quiero morir", Severity.HIGH),
        ("ya compre fentanilo", Severity.HIGH),
        ("mi esposo me pega", Severity.HIGH),
        ("recai", Severity.ELEVATED),
        ("no le veo sentido a la vida", Severity.ELEVATED),
    ],
)
def test_spanish_severities(screener: Screener, text: str, severity: Severity) -> None:
    assert screener.screen(text).severity == severity, text


HARD_NEGATIVES = [
    # idioms
    "me muero de risa jajaja",
    "me muero de sueño, el bebe no me dejo dormir",
    "me muero de hambre",
    "me muero de calor en este apartamento",
    "me quiero morir de la verguenza, se me salio la leche en el trabajo",
    "me mata este calor",
    "estoy muerta de cansancio",
    "mi mama me va a matar si se entera",
    "mi jefe me va a matar, llegue tarde otra vez",
    "estoy matando el tiempo en la sala de espera",
    "me estoy matando trabajando",
    "se me pego la gripa de mi hijo",
    "el bebe me patea muy fuerte en la noche",
    "mi hija me pega cuando esta cansada",
    "quiero cortarme el pelo",
    "me corte el dedo cocinando",
    "mi bebe no respira bien por la nariz, tiene mocos",
    "ese video me mato jaja",
    "me muero de ganas de verte",
    "veo borroso sin mis lentes",
    "antes muerta que sencilla",
    # denials and reassurance
    "no me quiero morir, solo estoy cansada",
    "nunca le haria daño a mi bebe",
    "no quiero hacerle daño a mi bebe, solo estoy frustrada",
    "no me voy a matar, ntp",
    "jamas me haria daño",
    "no compre nada, ya no uso",
    "no estoy pensando en matarme",
    "ni loca vuelvo a usar",
    # past stories and recovery
    "hace 3 años me queria matar",
    "cuando era joven me cortaba",
    "llevo 2 años limpia",
    "llevo 8 meses sobria y me siento bien",
    "antes usaba heroina",
    "hace años mi novio me pegaba",
    "mi primo tuvo una sobredosis hace 2 años",
    "cuando se me rompio la fuente con mi primer hijo a las 39 semanas fue rapido",
    # information questions
    "como se usa el narcan?",
    "que hago si alguien no respira por una sobredosis?",
    "cuales son las señales de una sobredosis",
    "donde puedo conseguir narcan por si acaso",
    "la metadona puede hacerle daño a mi bebe?",
    "que pasa si tomo suboxone y estoy embarazada",
    "es normal sangrar despues del parto?",
    # prescribed doses and recovery talk
    "tome mis 90 mg de metadona",
    "ya me tome mi suboxone de hoy",
    "hoy recogi mi metadona en la clinica",
    "me tome toda mi dosis de hoy como me la recetaron",
    "voy a usar el baño",
    "lo voy a usar mañana para la cita",
    # news and everyday chat
    "vi en las noticias que hubo muchas sobredosis en la ciudad",
    "hola, como estan? el bebe ya duerme toda la noche",
    "estoy muy cansada pero feliz",
    "¿Alguien sabe de una guarderia barata?",
    "mi esposo me ayuda mucho con el bebe",
    "que bonito esta el dia",
    "me encanta este grupo, gracias",
    "mi suegra me cae bien",
    "el bebe tiene una cita con el pediatra mañana",
    "ojala que el bebe duerma hasta las 7",
    "me duele el pecho cuando le doy de comer, creo que es mastitis",
    "por fin se callo el bebe",
    "la casa esta limpia por fin",
    "k onda, todo bien?",
    "xq el bebe llora tanto en la noche?",
    "tmb me pasa, ntp",
    "tengo ganas de usar mi vestido nuevo",
    "mi novio no me responde los mensajes",
    "voy a tirarme en la cama un rato",
    "casi me da un infarto cuando vi la cuenta",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_spanish_everyday_talk_is_not_a_crisis(screener: Screener, text: str) -> None:
    assert not screener.screen(text).crisis, (text, screener.screen(text))


def test_the_spanish_sets_are_large_and_cover_every_category() -> None:
    assert len(CRISES) >= 60
    assert len(HARD_NEGATIVES) >= 60
    assert {category for _, category in CRISES} == {
        "suicide", "self_harm", "overdose", "intent_to_use", "baby_danger", "violence", "medical",
    }  # fmt: skip
    texts = [text for text, _ in CRISES] + HARD_NEGATIVES
    assert len(set(texts)) == len(texts), "duplicate messages"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("está", "esta"),
        ("niño", "nino"),
        ("vergüenza", "verguenza"),
        ("¿qué?", " que?"),
        ("plain ascii stays", "plain ascii stays"),
    ],
)
def test_accents_are_folded(raw: str, folded: str) -> None:
    assert fold_accents(raw) == folded


def test_spanish_survives_the_canonical_form(screener: Screener) -> None:
    assert screener.screen("¡Me tomé todas las pastillas!").category == "overdose"
    assert screener.screen("ME QUIERO MORIIIIR").category == "suicide"
    assert screener.screen("YA NO QUIERO VIVÍR").category == "suicide"


# Guard families added to make every rule hit a real crisis (see test_screen.py): messages the
# rules must now leave to the learned layer, and crises next to the same words.
GUARD_FAMILIES = {
    "dream": (
        [
            "sone que recai y me desperte llorando",
            "tuve una pesadilla donde sacudi al bebe, q feo",
            "anoche sone que me tome todas las pastillas, ya no quiero ver esas peliculas",
        ],
        [
            "tuve una pesadilla y ahora me quiero morir",
            "sone con mi ex y ahora tengo muchas ganas de drogarme ahorita",
        ],
    ),
    "denial": (
        [
            "no tengo pensamientos suicidas, solo estoy cansada",
            "no tengo ideas de matarme, nomas ando triste",
            "no estoy sangrando mucho, ya se calmo",
        ],
        [
            "no tengo ganas de vivir",
            "me pregunto si me quiero matar y le dije que si",
        ],
    ),
    "report": (
        [
            "el articulo dice que pensamientos suicidas son comunes despues del parto",
            "un estudio dice que pensamientos suicidas son comunes en el posparto",
            "mi suegra sigue diciendo que le voy a hacer daño al bebe por mi pasado",
            "mi ex sigue diciendo que voy a lastimar al bebe",
        ],
        [
            "las noticias dicen que otra mama se mato y yo tambien me quiero matar",
            "mi esposo sigue diciendo que estoy loca y me quiero morir",
        ],
    ),
    "retrospect": (
        [
            "me tome todas las pastillas una vez. eso fue hace 6 años, ahora estoy bien",
            "recai despues de mi primer bebe. eso fue en 2020",
            "queria quitarme la vida. eso fue hace muchos años",
        ],
        [
            "me tome todas las pastillas. eso fue lo que paso",
            "me quiero morir. eso fue lo que pense todo el dia",
        ],
    ),
    "coping": (
        [
            "tengo muchas ganas de drogarme pero no lo voy a hacer",
            "tengo ganas de cortarme pero le hable a mi terapeuta y ya se me paso",
            "mi dealer me escribio. lo bloquee y le dije a mi consejera",
        ],
        [
            "tengo ganas de drogarme ahorita, le hable a mi padrino y no contesta",
            "voy a drogarme esta noche, ya lo decidi",
        ],
    ),
    "resolved": (
        [
            "el bebe se cayo de la cama pero esta perfectamente bien",
            "mi hija se cayo del sillon y siguio jugando como si nada",
            "el bebe se cayo de la cama, el pediatra dijo que esta bien",
        ],
        [
            "el bebe se cayo de la cama y no despierta",
            "se me cayo el bebe y no para de vomitar",
        ],
    ),
    "info": (
        [
            "cuales son las señales de que alguien tiene pensamientos suicidas?",
            "como se sabe si el bebe no se mueve lo suficiente",
            "q pasa si mezclo la metadona con alcohol sin querer? pregunto pa saber",
        ],
        [
            "como se si me estoy muriendo, me tome 30 pastillas",
            "mi novio no respira, que son las senales de sobredosis",
            "mezcle la metadona con alcohol, que pasa si me duermo",
        ],
    ),
    "intrusive": (
        [
            "tengo pensamientos intrusivos de hacerle daño a mi bebe, me dan asco",
            "me vienen imagenes de lastimar al bebe, mi doctora dice que es toc posparto",
            "a veces pienso en hacerle daño al bebe pero nunca lo haria, me da nauseas",
        ],
        [
            "quiero hacerle daño a mi bebe y no me da miedo",
            "voy a lastimar al bebe",
        ],
    ),
    "past and idiom": (
        [
            "cuando recai la primera vez pense que no habia salida, y mirame ahora",
            "mi novio de antes me encerro en el cuarto, por eso no confio en nadie",
            "me voy a matar trabajando doble turno esta semana jaja",
        ],
        [
            "me voy a matar esta noche",
            "recai anoche y no se que hacer",
        ],
    ),
    # 2027-02 families (batches b12-b13).
    "reported speech and denial": (
        [
            "mi suegra dice que me voy a matar si sigo sin dormir",
            "mi hermana piensa que me voy a morir de tanto trabajar",
            "no soy suicida, nomas estoy agotada",
            "ya no estoy suicida, la terapia me ayudo",
        ],
        [
            "me voy a matar, ya no aguanto",
            "soy suicida y no se que hacer",
        ],
    ),
    "past and resolved": (
        [
            "cuando tenia 19 me tome todas las pastillas, hoy ayudo a otras mamas",
            "a los 17 anos me queria matar, ahora tengo 3 hijos",
            "el otro dia llame al 911 por mi papa y ya todo bien",
        ],
        [
            "me tome todas las pastillas hace un rato",
            "llame al 911 y no llegan",
        ],
    ),
    "baby hyperbole": (
        [
            "este bebe me quiere matar de sueno jaja",
            "mi nena me va a matar de cansancio con tanto desvelo",
            "el toddler me esta matando de hambre, no me deja comer",
        ],
        [
            "mi novio me quiere matar",
            "mi ex dijo que me va a matar",
        ],
    ),
    "new means": (
        [
            "la soga para tender la ropa ya la compre",
            "tengo la navaja de afeitar en el bano, se me olvido guardarla",
            "el bebe me pateo la panza toda la noche jaja",
            "donde esta el narcan mas barato en houston",
        ],
        [
            "la soga ya esta lista en el garage",
            "tengo la cuchilla en la mano",
            "me pateo la panza y tengo 5 meses",
            "donde esta el narcan",
            "ya le di dos narcan y no despierta",
        ],
    ),
    # 2027-03: "recai" and "quitarme la vida" narrowed to a now; past anchors (b17-b18).
    "una recaida con un ahora": (
        [
            "desde que recai mi suegra me vigila todo el tiempo",
            "recai en diciembre y regrese al programa, ya voy bien",
            "mi hermana recayo en enero pero ya esta en tratamiento",
            "el año pasado intente quitarme la vida y hoy cumplo un año en terapia",
            "cuando estaba embarazada de mi hija mayor me cortaba, ahora estoy bien",
        ],
        [
            "recai hoy en la mañana y tengo mas en la bolsa",
            "acabo de recaer y no se que hacer",
            "hace rato intente quitarme la vida con pastillas",
        ],
    ),
    "amenazas y escenas": (
        [
            "en la serie hay una escena de suicidio donde ella grita me quiero morir, no la vean",
            "ya compre tiras de prueba de fentanilo gratis en la clinica",
            "si le digo a mi doctora que tengo ganas de hacerme dano, llaman a cps?",
        ],
        [
            "el papa de mi bebe dijo que me va a matar",
            "el papa de mi bebe dice que me va a matar si lo dejo",
        ],
    ),
    # 2027-04 (b19-b22): exasperation at someone's visit or call.
    "exasperacion_cada_vez": (
        [
            "me quiero morir cada vez que me llama mi suegra",
            "me quiero matar cada vez que abre la boca mi cunada",
            "me dan ganas de morir cada vez que me regana el jefe",
        ],
        [
            "me quiero morir, ya no aguanto",
            "me quiero matar esta noche",
        ],
    ),
    # Effort and shame figures written in chat spelling ("d" for "de").
    "figuras_de_esfuerzo_y_verguenza": (
        [
            "me quiero matar estudiando para el examen",
            "me quiero morir d la pena, me cai en la clinica",
            "muerta d sueno con este bebe",
        ],
        [
            "me quiero matar, ya tengo las pastillas",
            "me quiero morir de verdad, no puedo mas",
        ],
    ),
    # An approximate time ago frames the story.
    "hace_como_un_ano": (
        [
            "mi ex me pego hace como un ano, ya no lo veo",
            "hace casi dos anos me quise matar y hoy estoy bien",
            "hace como tres meses recai pero ya voy a mis juntas",
        ],
        [
            "mi novio me pego hoy",
            "hace rato me tome todas las pastillas",
        ],
    ),
    # Not wanting to live like this, narrowed to circumstances.
    "vivir_asi_con_circunstancias": (
        [
            "no quiero vivir asi con tantas deudas",
            "no quiero vivir asi sin mi propia casa",
            "ya no quiero vivir asi en este cuartito",
        ],
        [
            "ya no quiero vivir",
            "no quiero seguir viviendo, estoy cansada de todo",
        ],
    ),
    # 2026-12-05 (rondas 5-7): pasado reciente, preguntas hipoteticas, ya resuelto, modismos.
    "pasado reciente, hipotesis, resuelto": (
        [
            "mi prima tuvo una sobredosis el mes pasado pero ya esta en rehab y le esta yendo bien",
            "q hago si alguien esta teniendo una sobredosis y no tengo narcan? pa estar preparada",
            "a q numero se marca si alguien tiene pensamientos de suicidio? pa pegarlo en el refri",
            "la terapeuta me pregunto si tenia ideas suicidas y le dije la verdad q no",
            "se me cayo el bebe del sillon, en urgencias le hicieron todo, esta perfecto",
            "mi bebe no respira bien x la nariz xq tiene mocos, algun truco?",
            "me quiero morir del calor, 8 meses de panza en phoenix",
            "tengo ganas de drogarme pero le hable a mi padrino",
            "el cielo esta azul hoy",
            "se tomo todo el biberon y se durmio",
        ],
        [
            "mi hermano tuvo una sobredosis y no respira",
            "la bebe no despierta pa comer y esta flojita",
            "su papa le dio algo pa q durmiera y no despierta",
            "tengo ganas de drogarme ahorita, le hable a mi padrino y no contesta",
            "me quiero matar, no aguanto mas",
            "esta azul ayuda",
            "la del girasol ya se tomo todo el frasco y se salio del chat",
            "donde consigo narcan ya, mi roommate esta azul",
            "me empujo por las escaleras y tengo 7 meses de embarazo",
        ],
    ),
}
FAMILY_NEGATIVES = [(family, text) for family, (neg, _) in GUARD_FAMILIES.items() for text in neg]
FAMILY_CRISES = [(family, text) for family, (_, pos) in GUARD_FAMILIES.items() for text in pos]


@pytest.mark.parametrize(("family", "text"), FAMILY_NEGATIVES)
def test_spanish_guard_families_leave_non_crises_alone(
    screener: Screener, family: str, text: str
) -> None:
    assert not screener.screen(text).crisis, (family, screener.screen(text))


@pytest.mark.parametrize(("family", "text"), FAMILY_CRISES)
def test_spanish_guard_families_keep_the_crises(screener: Screener, family: str, text: str) -> None:
    assert screener.screen(text).crisis, (family, text)
