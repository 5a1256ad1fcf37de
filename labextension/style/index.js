import './index.css';
import './notebook-steps.css';
import './runs-compare.css';
import './launch.css';
import './iterate.css';
