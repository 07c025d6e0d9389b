"""German pack of the demo crawl (Lokalnachrichten; written for this project).

Verbs are single finite forms without separable prefixes, so the same word can stand in second
position of a main clause and at the end of a subordinate clause.
"""

from flows.sources.demo_content import LanguagePack, split

PACK = LanguagePack(
    code="de",
    subjects=split(
        "der Stadtrat|ein kleines Team von Ingenieuren|das Kreiskrankenhaus|die Stadtbibliothek|"
        "die neue Landesregierung|eine Gruppe von Forschern|der Fußballverein|die Schulleitung|"
        "ein Familienbetrieb|der Verkehrsverbund|das Landesmuseum|eine junge Architektin|der Energieversorger|"
        "die Universität|eine Bürgerinitiative|die Bürgermeisterin|die Bäckerei am Markt|der Wetterdienst|"
        "der Gemeinschaftsgarten|das Tourismusbüro|eine unabhängige Buchhandlung|die Feuerwehr|"
        "ein beliebtes Restaurant|der Wasserversorger|die Handelskammer|die Polizei|ein Start-up aus der Region|"
        "der Bauernverband|der öffentliche Rundfunk|die Wohnungsgenossenschaft|ein pensionierter Lehrer|"
        "der Klinikdirektor|der Elternbeirat|ein Heimatforscher|das Jugendorchester|der Radsportverein|"
        "das Gesundheitsministerium|eine Softwareentwicklerin|die Hafenverwaltung|der Förderverein"
    ),
    verbs=split(
        "prüft|plant|kritisiert|unterstützt|veröffentlicht|verschiebt|diskutiert|präsentiert|beschreibt|"
        "fördert|testet|erweitert|verteidigt|bewertet|organisiert|begrüßt|verbessert|finanziert|dokumentiert|"
        "feiert|überarbeitet|beschloss|bestätigte|untersucht|verlängert|ergänzt|vereinfacht|erklärt|beantragt|"
        "befürwortet|bemängelt|prüfte|plante|kritisierte|unterstützte|veröffentlichte|verschob|diskutierte|"
        "erwähnte|übernimmt"
    ),
    objects=split(
        "einen neuen Plan für den Hafen|den Jahreshaushalt|eine Studie zur Luftqualität|"
        "die Sanierung des alten Bahnhofs|einen Vorschlag gegen den Durchgangsverkehr|"
        "die Ergebnisse der Umfrage|ein Programm für junge Familien|die Öffnungszeiten des Hallenbads|"
        "eine neue Buslinie|die Gestaltung des Marktplatzes|einen Bericht über steigende Mieten|das Sommerfest|"
        "eine Kampagne gegen Lebensmittelverschwendung|die neuen Radwege|eine Ausstellung zur Stadtgeschichte|"
        "die Pläne für einen Windpark|einen Ratgeber für neue Einwohner|die Regeln für das Parken|"
        "eine Schulung für Ehrenamtliche|die Preise im Nahverkehr|ein Projekt für mehr Stadtbäume|"
        "die neuesten Zahlen zum Tourismus|eine App für Arzttermine|den Ausbau der Grundschule|"
        "eine Liste mit Sicherheitsmaßnahmen|die Zukunft der Markthalle|eine Reihe öffentlicher Vorträge|"
        "die Wasserversorgung im Norden|eine Kooperation mit der Hochschule|das Recyclingsystem|"
        "einen Fonds für kleine Betriebe|den Zeitplan für die Bauarbeiten|eine Debatte über Wohnungsbau|"
        "den Vertrag mit der Baufirma|ein neues Gesundheitszentrum|die Ergebnisse der Wahl|"
        "einen Tag der offenen Tür|die Reparatur der Brücke|einen langen Bericht über Klimarisiken|"
        "die endgültige Fassung der Strategie"
    ),
    adverbials=split(
        "im Frühjahr|nach langer Diskussion|am Ende des Jahres|in der Innenstadt|während der Sommerferien|"
        "zum ersten Mal|ohne große Aufmerksamkeit|in den nördlichen Stadtteilen|in der vergangenen Woche|"
        "an diesem Morgen|in den kommenden Monaten|bei einer öffentlichen Sitzung|gemeinsam mit den Schulen|"
        "trotz heftiger Kritik|mit Unterstützung der Anwohner|vor der nächsten Wahl|in einer kurzen Mitteilung|"
        "auf der eigenen Internetseite|in mehreren Vierteln|nach monatelanger Planung|kurzfristig|"
        "in einem Interview am Montag|bis zum Ende des Jahrzehnts|ohne viel Aufsehen|in der Altstadt|"
        "am Dienstagabend|auf Wunsch der Bewohner|im zweiten Jahr in Folge|in den nächsten Wochen|am Flussufer"
    ),
    connectors=split(
        "Außerdem|Inzwischen|Gleichzeitig|Deshalb|Trotzdem|Am Ende|Dadurch|Andererseits|Vor allem|"
        "In der Praxis|Bisher|Allerdings|Zudem|Offenbar"
    ),
    sources=split(
        "einer Sprecherin|der Lokalzeitung|mehreren Anwohnern|dem offiziellen Bericht|"
        "Personen aus dem Umfeld des Projekts|den Veranstaltern|einer aktuellen Umfrage|der Pressestelle|"
        "Fachleuten aus der Branche|den veröffentlichten Unterlagen|zwei unabhängigen Studien|"
        "dem Sitzungsprotokoll"
    ),
    clauses=split(
        "was viele Anwohner überrascht hat|obwohl das Budget knapp bleibt|was schon lange erwartet wurde|"
        "wie mehrere Beobachter betonen|auch wenn die Details noch unklar sind|"
        "was eine gute Nachricht für Familien ist|doch die Entscheidung bleibt umstritten|"
        "was etwa zwei Jahre dauern soll|und die ersten Ergebnisse sind vielversprechend|"
        "damit mehr Menschen teilnehmen können|während Kritiker einen anderen Weg fordern|"
        "was online für lange Diskussionen sorgte|weil die Nachfrage so schnell gewachsen ist|"
        "wie schon in den vergangenen Jahren|was sich viele Menschen gewünscht hatten"
    ),
    templates=(
        "{S} {v} {o} {p}.",
        "{C} {v} {s} {o}.",
        "{P} {v} {s} {o}.",
        "{S} {v} {o}, {r}.",
        "Laut {src} {v} {s} {o} {p}.",
        "{S} {v} {o} und {v2} {o2}.",
        "Es ist noch unklar, ob {s} {o} {v}.",
        "Viele Menschen glauben, dass {s} {p} {o} {v}.",
        "{C} {v} {s} {o} {p}, {r}.",
        "Weil {s} {o} {v}, {v2} {s2} {o2}.",
        "{S} {v} {o} {p}, und {s2} {v2} {o2}.",
        "Deshalb {v} {s} {o} {p}.",
    ),
    title_templates=(
        "{S} {v} {o}",
        "{P}: {s} {v} {o}",
        "Warum {s} {o} {v}",
        "Wie {s} {p} {o} {v}",
        "{S} {v} {o} – was bisher bekannt ist",
    ),
    listicle_titles=(
        "{n} Dinge, die man über {o} wissen sollte",
        "{n} Gründe, warum {s} {o} {v}",
        "{n} Ideen für {o}",
        "Top {n}: {o}",
        "{n} Fragen rund um {o}",
    ),
    openers=split(
        "Kurzes Update:|Ehrlich gesagt:|Also, die Neuigkeit ist:|Nur eine kurze Notiz:|Okay, also:|"
        "Wusstet ihr schon?|Kleine Neuigkeit:|Wie versprochen:|Achtung:|Ich weiß nicht recht, aber:"
    ),
    closers=split(
        "Danke fürs Lesen!|Was meint ihr dazu?|Mehr dazu bald.|Schreibt es gern in die Kommentare.|"
        "Das war es für heute.|Bis nächste Woche!|Teilt den Beitrag gern.|Kommentare sind willkommen."
    ),
    comments=split(
        "Toller Beitrag, danke!|Das wusste ich noch nicht.|Interessant, aber ich sehe das anders.|Geht mir genauso.|"
        "Danke fürs Teilen!|Endlich mal gute Nachrichten.|Weiß jemand, wann es losgeht?|"
        "Ehrlich gesagt bin ich nicht überzeugt."
    ),
    nav=split(
        "Startseite|Nachrichten|Lokales|Politik|Wirtschaft|Kultur|Sport|Reisen|Essen und Trinken|Meinung|"
        "Wissenschaft|Technik|Gesundheit|Veranstaltungen|Wetter|Videos|Podcasts|Archiv|Über uns|Kontakt|Shop|"
        "Stellenmarkt"
    ),
    footer_links=split(
        "Datenschutz|Nutzungsbedingungen|Impressum|Kontakt|Werbung|Karriere|Barrierefreiheit|Sitemap|"
        "Newsletter|RSS"
    ),
    cookie_text=(
        "Wir verwenden Cookies und ähnliche Technologien, um Ihr Nutzungserlebnis zu verbessern, Zugriffe zu "
        "analysieren und personalisierte Inhalte anzuzeigen. Mit einem Klick auf Akzeptieren stimmen Sie der "
        "Verwendung von Cookies zu."
    ),
    cookie_buttons=("Alle akzeptieren", "Ablehnen", "Cookie-Einstellungen"),
    rights="Alle Rechte vorbehalten.",
    related="Das könnte Sie auch interessieren",
    most_read="Meistgelesen",
    newsletter=("Newsletter abonnieren", "Die wichtigsten Nachrichten jeden Morgen in Ihrem Postfach.",
                "Jetzt anmelden"),
    share=split("Teilen|Auf Facebook teilen|Auf X teilen|Link kopieren|Drucken"),
    read_more="Weiterlesen",
    search="Suche",
    byline="Von {name} · {date}",
    date_format="{d}. {month} {y}",
    months=split("Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"),
    first_names=split("Anna|Lukas|Marie|Jonas|Lena|Felix|Sophie|Paul|Katharina|Tobias|Julia|Matthias"),
    last_names=split(
        "Müller|Schneider|Fischer|Weber|Becker|Hoffmann|Schäfer|Koch|Richter|Wolf|Neumann|Zimmermann"
    ),
    js_warning=(
        "Sie müssen JavaScript aktivieren, um diese Anwendung zu nutzen.",
        "Bitte aktivieren Sie JavaScript in Ihren Browsereinstellungen und laden Sie die Seite neu.",
    ),
    not_found=("Seite nicht gefunden",
               "Leider existiert die gesuchte Seite nicht oder sie wurde verschoben."),
    server_error=("Interner Serverfehler",
                  "Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es später noch einmal."),
    updated_note="Dieser Artikel wurde am {date} aktualisiert.",
    spam_keywords=split(
        "günstige Flüge|billig kaufen|bester Preis|versandkostenfrei|Rabattcode|Angebote heute|"
        "Kredit ohne Schufa|Online Casino Bonus|schnell abnehmen|Hotel günstig buchen|Handyvertrag|"
        "Versicherung Vergleich|Gutschein"
    ),
    spam_places=split("Berlin|Hamburg|München|Köln|Frankfurt|Stuttgart|Düsseldorf|Leipzig|in der Nähe|2024"),
    product_nouns=split(
        "Laufschuhe|Baumwollhemd|Winterjacke|Ledertasche|Kaffeemaschine|Schreibtischlampe|Wollschal|Gartenstuhl|"
        "Trinkflasche|Reiserucksack|Bürostuhl|Handyhülle|Küchenmesser|Bettwäsche|Gummistiefel"
    ),
    product_adjs=split("Leicht|Klassisch|Hochwertig|Kompakt|Wasserdicht|Vintage|Schmal|Extra groß|Bio|Handgemacht"),
    colors=split("schwarz|weiß|blau|rot|grün|grau|dunkelblau|beige"),
    size_word="Größe",
    price_format="{whole},{cents} €",
    domain_words=split("stadt|nord|blau|gruen|berg|see|land|haus|markt|zeit|heimat|tages|rhein|wald|sonnen"),
    domain_suffixes=split("zeitung|blatt|kurier|anzeiger|portal|magazin|ratgeber|nachrichten|blog|welt"),
    tlds=split("de|de|de|at|ch|com|net|info"),
    sections=split("nachrichten|ratgeber|blog|artikel|region|wirtschaft|kultur|lokales"),
    accept_language="de-DE,de;q=0.9,en;q=0.5",
)
