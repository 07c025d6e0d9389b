"""French pack of the demo crawl (actualité locale; written for this project).

Templates avoid "que" before a subject so that no elision (qu'une, qu'un) is needed.
"""

from flows.sources.demo_content import LanguagePack, split

PACK = LanguagePack(
    code="fr",
    subjects=split(
        "le conseil municipal|une petite équipe d'ingénieurs|l'hôpital régional|la bibliothèque municipale|"
        "le nouveau gouvernement|un groupe de chercheurs|le club de football|la direction de l'école|"
        "une entreprise familiale|l'autorité des transports|le musée national|une jeune architecte|"
        "la compagnie d'électricité|l'université|une association de bénévoles|la maire|la boulangerie du quartier|"
        "le service météorologique|le jardin partagé|l'office de tourisme|une librairie indépendante|"
        "la caserne des pompiers|un restaurant très populaire|le service des eaux|la chambre de commerce|"
        "la police municipale|une jeune entreprise de la région|le syndicat agricole|la radio publique|"
        "la coopérative d'habitation|un professeur à la retraite|le directeur de l'hôpital|"
        "l'association des parents d'élèves|un historien local|l'orchestre des jeunes|le club cycliste|"
        "le ministère de la Santé|une développeuse de logiciels|l'autorité portuaire|le comité du festival"
    ),
    verbs=split(
        "a approuvé|examine|a présenté|annonce|a publié|critique|a reporté|va discuter|prépare|a rejeté|soutient|"
        "a lancé|décrit|vient de mettre à jour|remet en question|a salué|teste|a introduit|a terminé|"
        "va présenter|étudie attentivement|défend|a prolongé|a achevé|organise|encourage|"
        "a discrètement abandonné|finance|explique|a simplifié|a organisé|signale|élargit|partage|a amélioré|"
        "évalue|envisage|a modifié|documente|célèbre"
    ),
    objects=split(
        "un nouveau projet pour le port|le budget annuel|une étude sur la qualité de l'air|"
        "la rénovation de l'ancienne gare|une proposition pour réduire la circulation|les résultats de l'enquête|"
        "un programme pour les jeunes familles|les horaires de la piscine|une nouvelle ligne de bus|"
        "l'aménagement de la place centrale|un rapport sur la hausse des loyers|le festival d'été|"
        "une campagne contre le gaspillage alimentaire|les nouvelles pistes cyclables|"
        "une exposition sur l'histoire locale|le projet de parc éolien|un guide pour les nouveaux habitants|"
        "les règles de stationnement|une formation pour les bénévoles|le prix des transports en commun|"
        "un projet pour planter plus d'arbres|les derniers chiffres du tourisme|"
        "une application pour prendre rendez-vous|l'agrandissement de l'école|une liste de mesures de sécurité|"
        "l'avenir de la halle du marché|une série de conférences publiques|"
        "l'approvisionnement en eau dans le nord|un partenariat avec l'université|le système de recyclage|"
        "un fonds pour les petites entreprises|le calendrier des travaux|un débat sur le logement|"
        "le contrat avec l'entreprise de construction|un nouveau centre de santé|les résultats des élections|"
        "une journée portes ouvertes|la réparation du pont|un long rapport sur les risques climatiques|"
        "la version finale de la stratégie"
    ),
    adverbials=split(
        "au printemps|après un long débat|à la fin de l'année|dans le centre-ville|pendant les vacances d'été|"
        "pour la première fois|sans beaucoup d'attention|dans les quartiers nord|la semaine dernière|ce matin|"
        "au cours des prochains mois|lors d'une réunion publique|en collaboration avec les écoles|"
        "malgré de vives critiques|avec le soutien des habitants|avant les prochaines élections|"
        "dans un bref communiqué|sur son site internet|dans plusieurs quartiers|après des mois de préparation|"
        "à la dernière minute|dans une interview lundi|d'ici la fin de la décennie|sans grand bruit|"
        "dans la vieille ville|mardi soir|à la demande des riverains|pour la deuxième année consécutive|"
        "dans les semaines à venir|près de la rivière"
    ),
    connectors=split(
        "Cependant|En outre|Pendant ce temps|En même temps|Pour cette raison|Néanmoins|Finalement|"
        "Par conséquent|D'un autre côté|Surtout|En pratique|Jusqu'à présent|Pour de nombreux habitants|"
        "Sans surprise"
    ),
    sources=split(
        "une porte-parole|le journal local|plusieurs habitants|le rapport officiel|des proches du projet|"
        "les organisateurs|un sondage récent|le service de presse|des experts du secteur|les documents publiés|"
        "deux études indépendantes|le compte rendu de la réunion"
    ),
    clauses=split(
        "ce qui a surpris de nombreux habitants|même si le budget reste serré|"
        "ce qui était attendu depuis longtemps|comme plusieurs observateurs l'ont souligné|"
        "même si les détails restent flous|ce qui est une bonne nouvelle pour les familles|"
        "mais la décision reste contestée|ce qui devrait prendre environ deux ans|"
        "et les premiers résultats sont prometteurs|afin que plus de personnes puissent participer|"
        "tandis que les critiques demandent une autre approche|"
        "ce qui a provoqué de longues discussions en ligne|parce que la demande a augmenté très vite|"
        "comme les années précédentes|ce que beaucoup de gens attendaient"
    ),
    templates=(
        "{S} {v} {o} {p}.",
        "{C}, {s} {v} {o}.",
        "{P}, {s} {v} {o}.",
        "{S} {v} {o}, {r}.",
        "Selon {src}, {s} {v} {o} {p}.",
        "{S} {v} {o} et {v2} {o2}.",
        "On ne sait pas encore si {s} {v} {o}.",
        "D'après beaucoup de gens, {s} {v} {o} {p}.",
        "{C}, {s} {v} {o} {p}, {r}.",
        "Quand {s} {v} {o}, {s2} {v2} {o2}.",
        "{S} {v} {o} {p}, et {s2} {v2} {o2}.",
        "C'est pourquoi {s} {v} {o} {p}.",
    ),
    title_templates=(
        "{S} {v} {o}",
        "{O} {p}",
        "Pourquoi {s} {v} {o}",
        "Comment {s} {v} {o} {p}",
        "{O} : ce que l'on sait",
    ),
    listicle_titles=(
        "{n} choses à savoir sur {o}",
        "{n} raisons pour lesquelles {s} {v} {o}",
        "{n} idées pour {o}",
        "Top {n} : {o}",
        "{n} questions sur {o}",
    ),
    openers=split(
        "Petite mise à jour :|Honnêtement,|Alors voilà la nouvelle :|Juste un petit mot :|Bon, alors|"
        "Le saviez-vous ?|Petite nouvelle :|Comme promis,|Attention :|Je ne sais pas trop quoi en penser, mais"
    ),
    closers=split(
        "Merci de votre lecture !|Qu'en pensez-vous ?|La suite bientôt.|Dites-le-moi dans les commentaires.|"
        "C'est tout pour aujourd'hui.|À la semaine prochaine !|N'hésitez pas à partager cet article.|"
        "Les commentaires sont les bienvenus."
    ),
    comments=split(
        "Super article, merci !|Je ne le savais pas.|Intéressant, mais je ne suis pas d'accord.|Pareil pour moi.|"
        "Merci pour le partage !|Enfin une bonne nouvelle.|Quelqu'un sait quand ça commence ?|"
        "Pas convaincu, pour être honnête."
    ),
    nav=split(
        "Accueil|Actualités|Région|Politique|Économie|Culture|Sport|Voyage|Cuisine|Opinions|Sciences|"
        "Technologie|Santé|Agenda|Météo|Vidéos|Podcasts|Archives|Qui sommes-nous|Contact|Boutique|Emploi"
    ),
    footer_links=split(
        "Politique de confidentialité|Conditions d'utilisation|Mentions légales|Contact|Publicité|Recrutement|"
        "Accessibilité|Plan du site|Newsletter|RSS"
    ),
    cookie_text=(
        "Nous utilisons des cookies et des technologies similaires pour améliorer votre expérience, analyser "
        "le trafic et afficher des contenus personnalisés. En cliquant sur accepter, vous consentez à "
        "l'utilisation des cookies."
    ),
    cookie_buttons=("Tout accepter", "Refuser", "Paramètres des cookies"),
    rights="Tous droits réservés.",
    related="À lire aussi",
    most_read="Les plus lus",
    newsletter=("Inscrivez-vous à notre newsletter", "Les meilleurs articles chaque matin dans votre boîte mail.",
                "S'inscrire"),
    share=split("Partager|Partager sur Facebook|Partager sur X|Copier le lien|Imprimer"),
    read_more="Lire la suite",
    search="Rechercher",
    byline="Par {name} · {date}",
    date_format="{d} {month} {y}",
    months=split("janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"),
    first_names=split("Camille|Louis|Chloé|Hugo|Léa|Julien|Manon|Nicolas|Élodie|Antoine|Sarah|Mathieu"),
    last_names=split("Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Leroy|Moreau|Simon|Laurent"),
    js_warning=(
        "Vous devez activer JavaScript pour utiliser cette application.",
        "Veuillez activer JavaScript dans les paramètres de votre navigateur puis recharger la page.",
    ),
    not_found=("Page introuvable", "Désolé, la page que vous cherchez n'existe pas ou a été déplacée."),
    server_error=("Erreur interne du serveur", "Un problème est survenu de notre côté. Veuillez réessayer plus tard."),
    updated_note="Cet article a été mis à jour le {date}.",
    spam_keywords=split(
        "vol pas cher|meilleur prix|acheter en ligne|livraison gratuite|code promo|promo du jour|crédit rapide|"
        "casino en ligne|perdre du poids vite|hôtel pas cher|forfait mobile|assurance auto pas chère"
    ),
    spam_places=split("Paris|Lyon|Marseille|Toulouse|Nice|Nantes|Bordeaux|Lille|près de chez moi|2024"),
    product_nouns=split(
        "chaussures de course|chemise en coton|veste d'hiver|sac en cuir|cafetière|lampe de bureau|"
        "écharpe en laine|chaise de jardin|gourde|sac à dos de voyage|chaise de bureau|coque de téléphone|"
        "couteau de cuisine|linge de lit|bottes de pluie"
    ),
    product_adjs=split("Léger|Classique|Haut de gamme|Compact|Imperméable|Vintage|Coupe ajustée|Grande taille|"
                       "Bio|Fait main"),
    colors=split("noir|blanc|bleu|rouge|vert|gris|bleu marine|beige"),
    size_word="taille",
    price_format="{whole},{cents} €",
    domain_words=split("ville|nord|bleu|vert|mer|lumiere|petit|grand|quotidien|region|soleil|vallee|pont"),
    domain_suffixes=split("info|journal|actu|presse|blog|magazine|guide|maison|voyage|hebdo"),
    tlds=split("fr|fr|fr|be|ch|ca|com|net"),
    sections=split("actualites|blog|articles|societe|culture|economie|voyage|region"),
    accept_language="fr-FR,fr;q=0.9,en;q=0.5",
)
