"""System errors (files, network) said in Italian, with the cause a clerk can act on.

``os_reason(e)`` never shows Python's English text ("[Errno 111] Connection refused"): it names what
happened and what to check.
"""

from __future__ import annotations

import errno
import socket
import ssl


def os_reason(e: BaseException) -> str:
    """The Italian reason of an OSError (or a decoding error), without Python's English text."""
    name = getattr(e, "filename", None)
    where = f" «{name}»" if name else ""
    if isinstance(e, UnicodeDecodeError):
        return "il file non è un testo UTF-8 (è forse un documento o una cartella di lavoro?)"
    if isinstance(e, ssl.SSLCertVerificationError):
        return ("il certificato del server non è valido o non è riconosciuto: se il server usa un certificato "
                "interno, indicarne il file in «ca» nelle impostazioni")
    if isinstance(e, ssl.SSLError):
        return ("la connessione cifrata non è riuscita: controllare «sicurezza» e «porta» nelle impostazioni "
                "(\"tls\" con la porta 465 o 993, \"starttls\" con la porta 587 o 143)")
    if isinstance(e, socket.gaierror):
        if e.errno in (getattr(socket, "EAI_AGAIN", -3),):
            return ("nome del server non risolto per un problema di rete temporaneo: controllare la connessione "
                    "e riprovare")
        return ("nome del server sconosciuto: controllare «host» nelle impostazioni (un errore di battitura?) "
                "e la connessione di rete")
    if isinstance(e, (socket.timeout, TimeoutError)):
        return ("il server non risponde (tempo scaduto): controllare «host» e «porta» nelle impostazioni e che "
                "la rete o il firewall permettano la connessione")
    code = getattr(e, "errno", None)
    if isinstance(e, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return ("connessione rifiutata: nessun servizio risponde a quell'indirizzo e porta; controllare «host» e "
                "«porta» nelle impostazioni, o che il server sia acceso")
    if isinstance(e, ConnectionResetError) or code in (errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE):
        return "la connessione è stata interrotta dal server: riprovare più tardi"
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return "rete non raggiungibile: controllare la connessione di rete (o il VPN dell'ente)"
    if isinstance(e, FileNotFoundError) or code == errno.ENOENT:
        return f"il file o la cartella{where} non esiste: controllare il nome e la cartella in cui ci si trova"
    if isinstance(e, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return (f"permesso negato{where}: il file è forse aperto in Excel o in un altro programma, oppure "
                "l'utente non ha i diritti su quella cartella")
    if isinstance(e, IsADirectoryError) or code == errno.EISDIR:
        return f"{where.strip() or 'il percorso'} è una cartella, non un file"
    if isinstance(e, NotADirectoryError) or code == errno.ENOTDIR:
        return f"{where.strip() or 'il percorso'} non è una cartella"
    if code == errno.ENOSPC:
        return "disco pieno: liberare spazio e riprovare"
    if code == errno.EROFS:
        return f"la cartella{where} è in sola lettura"
    if code == errno.ENAMETOOLONG:
        return "nome del file troppo lungo"
    if isinstance(e, OSError):
        return f"errore di sistema{where} (codice {code})" if code is not None else f"errore di sistema{where}"
    return f"errore imprevisto ({type(e).__name__})"
