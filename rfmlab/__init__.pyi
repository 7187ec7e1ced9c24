from rfmlab.api import RFMSegmenter as RFMSegmenter
from rfmlab.api import RunResult as RunResult
from rfmlab.api import compare as compare
from rfmlab.api import customer_table as customer_table
from rfmlab.api import load_run as load_run
from rfmlab.api import over_time as over_time
from rfmlab.api import promote as promote
from rfmlab.api import report_page as report_page
from rfmlab.api import rerun as rerun
from rfmlab.api import score as score
from rfmlab.cli.api import run as run
from rfmlab.errors import ConfigError as ConfigError
from rfmlab.errors import DataError as DataError
from rfmlab.errors import RfmlabError as RfmlabError
from rfmlab.errors import TooFewCustomers as TooFewCustomers

__version__: str
__all__: list[str]
