"""gunicorn settings for the benchmark peer: sync workers, as many as
gunicorn's documentation recommends ((2 x CPUs) + 1), no access log.
The benchmark adds `--bind 127.0.0.1:<free port>` and `--error-logfile`."""
import multiprocessing

wsgi_app = "mamis_peer.wsgi:application"
worker_class = "sync"
workers = multiprocessing.cpu_count() * 2 + 1
accesslog = None
loglevel = "warning"
