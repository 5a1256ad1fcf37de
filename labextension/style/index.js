import './index.css';
import './notebook-steps.css';
