"""Spanish pack of the demo crawl (noticias locales; written for this project).

Verbs never start with "i", so "y" before a second verb never has to become "e".
"""

from flows.sources.demo_content import LanguagePack, split

PACK = LanguagePack(
    code="es",
    subjects=split(
        "el ayuntamiento|un pequeño equipo de ingenieros|el hospital regional|la biblioteca municipal|"
        "el nuevo gobierno|un grupo de investigadores|el club de fútbol|la dirección del colegio|"
        "una empresa familiar|la autoridad de transporte|el museo nacional|una joven arquitecta|"
        "la compañía eléctrica|la universidad|una asociación de voluntarios|la alcaldesa|"
        "la panadería del barrio|el servicio meteorológico|el huerto comunitario|la oficina de turismo|"
        "una librería independiente|el cuerpo de bomberos|un restaurante muy popular|la empresa de aguas|"
        "la cámara de comercio|la policía local|una empresa emergente de la región|"
        "la asociación de agricultores|la radio pública|la cooperativa de viviendas|un profesor jubilado|"
        "el director del hospital|la asociación de padres|un historiador local|la orquesta juvenil|"
        "el club ciclista|el ministerio de Sanidad|una desarrolladora de software|la autoridad portuaria|"
        "el comité del festival"
    ),
    verbs=split(
        "ha aprobado|revisa|presentó|anunció|ha publicado|criticó|ha aplazado|va a debatir|prepara|rechazó|"
        "apoya|ha lanzado|describe|acaba de actualizar|cuestiona|celebró|está probando|dio a conocer|"
        "ha terminado|presentará|estudia con atención|defiende|ha ampliado|completó|organiza|promueve|"
        "abandonó discretamente|financia|explica|ha simplificado|organizó|refuerza|amplía|comparte|ha mejorado|"
        "evalúa|está considerando|ha cambiado|documenta|respalda"
    ),
    objects=split(
        "un nuevo plan para el puerto|el presupuesto anual|un estudio sobre la calidad del aire|"
        "la renovación de la antigua estación|una propuesta para reducir el tráfico|los resultados de la encuesta|"
        "un programa para familias jóvenes|el horario de la piscina|una nueva línea de autobús|"
        "el diseño de la plaza central|un informe sobre la subida de los alquileres|el festival de verano|"
        "una campaña contra el desperdicio de alimentos|los nuevos carriles bici|"
        "una exposición sobre la historia local|el proyecto de un parque eólico|una guía para los nuevos vecinos|"
        "las normas de aparcamiento|un curso de formación para voluntarios|el precio del transporte público|"
        "un proyecto para plantar más árboles|las últimas cifras del turismo|una aplicación para pedir cita|"
        "la ampliación de la escuela|una lista de medidas de seguridad|el futuro del mercado municipal|"
        "una serie de conferencias públicas|el suministro de agua en el norte|un acuerdo con la universidad|"
        "el sistema de reciclaje|un fondo para pequeñas empresas|el calendario de las obras|"
        "un debate sobre la vivienda|el contrato con la constructora|un nuevo centro de salud|"
        "los resultados de las elecciones|una jornada de puertas abiertas|la reparación del puente|"
        "un largo informe sobre los riesgos climáticos|la versión final de la estrategia"
    ),
    adverbials=split(
        "en primavera|tras un largo debate|a finales de año|en el centro de la ciudad|"
        "durante las vacaciones de verano|por primera vez|sin mucha atención|en los barrios del norte|"
        "la semana pasada|esta mañana|en los próximos meses|en una reunión pública|"
        "en colaboración con los colegios|a pesar de las duras críticas|con el apoyo de los vecinos|"
        "antes de las próximas elecciones|en un breve comunicado|en su página web|en varios barrios|"
        "tras meses de preparación|con poca antelación|en una entrevista el lunes|antes del final de la década|"
        "sin hacer mucho ruido|en el casco antiguo|el martes por la tarde|a petición de los vecinos|"
        "por segundo año consecutivo|en las próximas semanas|cerca del río"
    ),
    connectors=split(
        "Sin embargo|Además|Mientras tanto|Al mismo tiempo|Por esta razón|No obstante|Al final|Como resultado|"
        "Por otro lado|Sobre todo|En la práctica|Hasta ahora|Para muchos vecinos|Como era de esperar"
    ),
    sources=split(
        "una portavoz|el periódico local|varios vecinos|el informe oficial|personas cercanas al proyecto|"
        "los organizadores|una encuesta reciente|el gabinete de prensa|expertos del sector|"
        "los documentos publicados|dos estudios independientes|el acta de la reunión"
    ),
    clauses=split(
        "lo que sorprendió a muchos vecinos|aunque el presupuesto sigue siendo ajustado|"
        "algo que se esperaba desde hace tiempo|como señalaron varios observadores|"
        "aunque los detalles aún no están claros|lo que es una buena noticia para las familias|"
        "pero la decisión sigue siendo polémica|lo que debería durar unos dos años|"
        "y los primeros resultados son prometedores|para que más personas puedan participar|"
        "mientras los críticos piden otro enfoque|lo que provocó largas discusiones en internet|"
        "porque la demanda ha crecido muy rápido|como en años anteriores|algo que muchas personas habían pedido"
    ),
    templates=(
        "{S} {v} {o} {p}.",
        "{C}, {s} {v} {o}.",
        "{P}, {s} {v} {o}.",
        "{S} {v} {o}, {r}.",
        "Según {src}, {s} {v} {o} {p}.",
        "{S} {v} {o} y {v2} {o2}.",
        "Todavía no está claro si {s} {v} {o}.",
        "Muchas personas creen que {s} {v} {o} {p}.",
        "{C}, {s} {v} {o} {p}, {r}.",
        "Cuando {s} {v} {o}, {s2} {v2} {o2}.",
        "{S} {v} {o} {p}, y {s2} {v2} {o2}.",
        "Por eso {s} {v} {o} {p}.",
    ),
    title_templates=(
        "{S} {v} {o}",
        "{O} {p}",
        "Por qué {s} {v} {o}",
        "Cómo {s} {v} {o} {p}",
        "{O}: lo que se sabe hasta ahora",
    ),
    listicle_titles=(
        "{n} cosas que hay que saber sobre {o}",
        "{n} razones por las que {s} {v} {o}",
        "{n} ideas para {o}",
        "Top {n}: {o}",
        "{n} preguntas sobre {o}",
    ),
    openers=split(
        "Actualización rápida:|Sinceramente,|Pues bien, la noticia es esta:|Solo una nota breve:|Bueno, pues|"
        "Una curiosidad:|Pequeña novedad:|Como prometí,|Atención:|No sé muy bien qué pensar, pero"
    ),
    closers=split(
        "¡Gracias por leer!|¿Qué opináis?|Pronto más.|Dejadlo en los comentarios.|Eso es todo por hoy.|"
        "¡Hasta la semana que viene!|No dudéis en compartir esta entrada.|Los comentarios son bienvenidos."
    ),
    comments=split(
        "¡Muy buena entrada, gracias!|No lo sabía.|Interesante, pero no estoy de acuerdo.|A mí me pasa lo mismo.|"
        "¡Gracias por compartir!|Por fin una buena noticia.|¿Alguien sabe cuándo empieza?|"
        "No me convence, la verdad."
    ),
    nav=split(
        "Inicio|Noticias|Local|Política|Economía|Cultura|Deportes|Viajes|Gastronomía|Opinión|Ciencia|"
        "Tecnología|Salud|Agenda|El tiempo|Vídeos|Podcasts|Hemeroteca|Quiénes somos|Contacto|Tienda|Empleo"
    ),
    footer_links=split(
        "Política de privacidad|Condiciones de uso|Aviso legal|Contacto|Publicidad|Trabaja con nosotros|"
        "Accesibilidad|Mapa del sitio|Boletín|RSS"
    ),
    cookie_text=(
        "Utilizamos cookies y tecnologías similares para mejorar su experiencia, analizar el tráfico y mostrar "
        "contenido personalizado. Al hacer clic en aceptar, usted acepta el uso de cookies."
    ),
    cookie_buttons=("Aceptar todas", "Rechazar", "Configurar cookies"),
    rights="Todos los derechos reservados.",
    related="Artículos relacionados",
    most_read="Lo más leído",
    newsletter=("Suscríbase a nuestro boletín", "Las mejores historias cada mañana en su correo.", "Suscribirse"),
    share=split("Compartir|Compartir en Facebook|Compartir en X|Copiar enlace|Imprimir"),
    read_more="Seguir leyendo",
    search="Buscar",
    byline="Por {name} · {date}",
    date_format="{d} de {month} de {y}",
    months=split(
        "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    ),
    first_names=split("Lucía|Pablo|Carmen|Javier|Elena|Diego|Marta|Sergio|Laura|Álvaro|Paula|Andrés"),
    last_names=split("García|Martínez|López|Sánchez|Pérez|Gómez|Fernández|Ruiz|Díaz|Moreno|Romero|Navarro"),
    js_warning=(
        "Necesita activar JavaScript para usar esta aplicación.",
        "Active JavaScript en la configuración de su navegador y vuelva a cargar la página.",
    ),
    not_found=("Página no encontrada", "Lo sentimos, la página que busca no existe o ha sido trasladada."),
    server_error=("Error interno del servidor",
                  "Algo ha fallado por nuestra parte. Vuelva a intentarlo más tarde."),
    updated_note="Este artículo fue actualizado el {date}.",
    spam_keywords=split(
        "vuelos baratos|mejor precio|comprar online|envío gratis|código descuento|ofertas de hoy|"
        "préstamos rápidos|casino online|adelgazar rápido|hoteles baratos|tarifa móvil|seguro de coche barato"
    ),
    spam_places=split("Madrid|Barcelona|Valencia|Sevilla|Bilbao|Málaga|Zaragoza|Ciudad de México|cerca de mí|2024"),
    product_nouns=split(
        "zapatillas de running|camisa de algodón|chaqueta de invierno|bolso de piel|cafetera|"
        "lámpara de escritorio|bufanda de lana|silla de jardín|botella de agua|mochila de viaje|silla de oficina|"
        "funda para móvil|cuchillo de cocina|ropa de cama|botas de lluvia"
    ),
    product_adjs=split(
        "Ligero|Clásico|Alta calidad|Compacto|Impermeable|Vintage|Entallado|Extra grande|Ecológico|Hecho a mano"
    ),
    colors=split("negro|blanco|azul|rojo|verde|gris|azul marino|beige"),
    size_word="talla",
    price_format="{whole},{cents} €",
    domain_words=split("ciudad|norte|azul|verde|sol|mar|diario|vida|tierra|plaza|valle|monte|rio"),
    domain_suffixes=split("noticias|hoy|digital|blog|revista|guia|informa|express|diario|semanal"),
    tlds=split("es|es|es|com.mx|mx|ar|co|com|net"),
    sections=split("noticias|blog|articulos|sociedad|cultura|economia|viajes|local"),
    accept_language="es-ES,es;q=0.9,en;q=0.5",
)
